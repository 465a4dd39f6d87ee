import { createMaskContext, maskText, type CompiledPolicy, type Decision, type MaskContext } from '@portcullis/policy';
import type { PolicyInForce } from '../../policy/active-policy.js';
import { BodyReader, message, ServerCode } from './protocol.js';
import { maskContextOf } from './result-guard.js';

/**
 * Texts besides rows carry values too: the client's SQL and parameters as recorded; errors and
 * notices, which quote the value they failed on (`invalid input syntax for type integer:
 * "123-45-6789"`, `Key (email)=(jane@...) already exists`); a notification, which carries
 * whatever pg_notify was given. They are masked as the statement's rows are. Under a whole-column
 * mask no detector knows what the column holds, and a value can appear anywhere in a message
 * (quoted or not, reversed, cut): the message is replaced, and the other text fields dropped.
 */

// Fields that hold free text (message, detail, hint, context, internal query); the others name
// objects (schema, table, column, constraint) or positions.
const TEXT_FIELDS = new Set(['M', 'D', 'H', 'W', 'q'].map((c) => c.charCodeAt(0)));
const MESSAGE = 'M'.charCodeAt(0);
const CODE = 'C'.charCodeAt(0);

/**
 * The masking a server text gets: the statement's decision, else the policy's own entities;
 * `columns` when the statement reads a table holding masked columns.
 */
export function textMasking(policy: PolicyInForce, decision: Decision | undefined, columns = false): { ctx?: MaskContext; columns: boolean } {
  return { ctx: decision ? maskContextOf(policy, decision) : policyWide(policy), columns };
}

const wide = new WeakMap<CompiledPolicy, MaskContext | undefined>();
function policyWide(policy: PolicyInForce): MaskContext | undefined {
  const { compiled } = policy;
  if (!wide.has(compiled)) {
    const { entities, style } = compiled.policy.masking;
    wide.set(compiled, entities.length === 0 ? undefined : createMaskContext({ scanner: compiled.scanner, entities, style, hashKey: policy.hashKey || undefined }));
  }
  return wide.get(compiled);
}

/** SQL text or a parameter as a recording keeps it: the client's own values masked too. */
export function maskSentText(text: string, masking: { ctx?: MaskContext }): string {
  return masking.ctx ? maskText(text, masking.ctx).text : text;
}

/** An ErrorResponse or NoticeResponse with its texts masked; undefined when nothing changes. */
export function maskNotice(code: number, buffer: Buffer, start: number, end: number, masking: { ctx?: MaskContext; columns: boolean }): Buffer | undefined {
  if (!masking.ctx && !masking.columns) return undefined;
  const reader = new BodyReader(buffer, start + 5, end);
  const fields: [number, string][] = [];
  while (reader.remaining() > 0) {
    const type = reader.byte();
    if (type === 0) break;
    fields.push([type, reader.cstring()]);
  }
  let changed = false;
  const state = fields.find(([type]) => type === CODE)?.[1] ?? '';
  const out: Buffer[] = [];
  for (const [type, value] of fields) {
    let text = value;
    if (masking.columns && TEXT_FIELDS.has(type)) {
      if (type !== MESSAGE) {
        changed = true;
        continue;
      }
      text = `${code === ServerCode.NoticeResponse ? 'notice' : 'error'} ${state} withheld: the statement reads masked columns`;
    } else if (masking.ctx && TEXT_FIELDS.has(type)) text = maskText(value, masking.ctx).text;
    if (text !== value) changed = true;
    out.push(Buffer.from([type]), Buffer.from(`${text}\0`, 'utf8'));
  }
  return changed ? message(code, ...out, Buffer.from([0])) : undefined;
}

/** A NotificationResponse with its payload masked; undefined when nothing changes. */
export function maskNotification(buffer: Buffer, start: number, end: number, ctx: MaskContext | undefined): Buffer | undefined {
  if (!ctx) return undefined;
  const reader = new BodyReader(buffer, start + 5, end);
  const pid = reader.int32();
  const channel = reader.cstring();
  const payload = reader.cstring();
  const masked = maskText(payload, ctx).text;
  if (masked === payload) return undefined;
  const head = Buffer.alloc(4);
  head.writeInt32BE(pid);
  return message(ServerCode.NotificationResponse, head, Buffer.from(`${channel}\0${masked}\0`, 'utf8'));
}
