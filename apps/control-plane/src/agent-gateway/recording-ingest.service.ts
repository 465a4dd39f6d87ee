import { Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { RecordingEvent, type RecordingBatch } from '@portcullis/proto';
import { AuditService } from '../audit/audit.service.js';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import { StreamError } from './stream-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type EventType = 'session_start' | 'statement' | 'session_end';

/**
 * Stores one RecordingBatch in one transaction. The wire is at-least-once; storage is exactly-once
 * because events are keyed by (agent, seq) and inserted with ON CONFLICT DO NOTHING, and sessions
 * are created, ended and counted only from the events this transaction actually inserted.
 */
@Injectable()
export class RecordingIngest {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
  ) {}

  async store(agentId: string, batch: RecordingBatch): Promise<void> {
    validate(batch);
    const rows = batch.events.map(toEventRow);
    await this.prisma.$transaction(async (tx) => {
      // First, so the agent's row lock serializes this agent's batches across every replica (an
      // old and a new stream of a reconnecting agent may both be delivering).
      await tx.$executeRaw`UPDATE agents SET next_recording_seq = GREATEST(next_recording_seq, ${BigInt(batch.lastSeq) + 1n})
        WHERE id = ${agentId}::uuid`;
      // One statement and one parameter whatever the batch size: Prisma's createMany costs about a
      // millisecond per row here, this a few microseconds.
      const inserted = await tx.$queryRaw<Array<{ seq: bigint }>>`
        INSERT INTO events (agent_id, seq, session_id, time, type, statement_index, kind, text, trace_id, action, data)
        SELECT ${agentId}::uuid, r.seq, r.session_id, r.time, r.type, r.statement_index, r.kind, r.text, r.trace_id, r.action, r.data
        FROM jsonb_to_recordset(${storableJson(JSON.stringify(rows))}::jsonb) AS r(
          seq bigint, session_id uuid, time timestamp, type text, statement_index bigint,
          kind text, text text, trace_id text, action text, data jsonb)
        ON CONFLICT (agent_id, seq) DO NOTHING
        RETURNING seq`;
      const isNew = new Set(inserted.map((r) => r.seq.toString()));
      const fresh = batch.events.filter((e) => isNew.has(String(e.seq)));

      const starts = fresh.flatMap((e) => (e.body?.$case === 'sessionStart' ? [{ e, start: e.body.value }] : []));
      if (starts.length > 0) {
        await tx.session.createMany({
          skipDuplicates: true,
          data: starts.map(({ e, start }) => ({
            id: e.sessionId,
            agentId,
            subject: start.subject,
            username: start.username || null,
            groups: start.groups,
            connection: start.connection,
            protocol: start.protocol,
            clientAddress: start.clientAddress || null,
            applicationName: start.applicationName || null,
            traceId: start.traceId || null,
            startedAt: e.time!,
          })),
        });
      }

      await this.rememberIdentities(tx, starts.map(({ e, start }) => ({ time: e.time!, ...start })));

      const statements = new Map<string, number>();
      for (const e of fresh) {
        if (e.body?.$case === 'statement') statements.set(e.sessionId, (statements.get(e.sessionId) ?? 0) + 1);
      }
      // A session is only ever changed by the agent that started it (ids come from the agents).
      for (const [id, n] of statements) {
        await tx.session.updateMany({ where: { id, agentId }, data: { statementCount: { increment: n } } });
      }

      for (const e of fresh) {
        if (e.body?.$case !== 'sessionEnd') continue;
        const end = e.body.value;
        await tx.session.updateMany({
          where: { id: e.sessionId, agentId },
          data: {
            endedAt: e.time!,
            outcome: end.outcome || null,
            error: end.error || null,
            bytesFromClient: BigInt(end.bytesFromClient),
            bytesToClient: BigInt(end.bytesToClient),
          },
        });
        if (end.outcome === 'refused') await this.auditRefusal(tx, agentId, e.sessionId, end.error);
      }
    });
  }

  /**
   * Identities are seen first on the data path (a CI job may never call the REST API): record
   * them so an admin can find and disable them. Roles come only from tokens seen by the API.
   */
  private async rememberIdentities(
    tx: Tx,
    starts: Array<{ subject: string; username: string; groups: string[]; time: Date }>,
  ): Promise<void> {
    const latest = new Map<string, (typeof starts)[number]>();
    for (const s of starts) if (s.subject) latest.set(s.subject, s);
    for (const s of latest.values()) {
      await tx.identity.upsert({
        where: { subject: s.subject },
        create: { subject: s.subject, username: s.username || null, groups: s.groups, roles: [], firstSeenAt: s.time, lastSeenAt: s.time },
        update: { username: s.username || undefined, groups: s.groups, lastSeenAt: s.time },
      });
    }
  }

  /** A refused login (bad token, no grant, disabled identity) is an audit fact, with its reason. */
  private async auditRefusal(tx: Tx, agentId: string, sessionId: string, reason: string): Promise<void> {
    const session = await tx.session.findFirst({ where: { id: sessionId, agentId } });
    await this.audit.record(
      {
        actor: session?.username || session?.subject || 'unknown',
        action: 'access.refused',
        target: session ? `connection:${session.connection}` : null,
        outcome: 'refused',
        details: { reason, agentId, sessionId, subject: session?.subject ?? null, protocol: session?.protocol ?? null },
      },
      tx,
    );
  }
}

/** A malformed batch would fail the same way on every resend: refuse it with the reason. */
function validate(batch: RecordingBatch): void {
  const refuse = (why: string): never => {
    throw new StreamError(
      status.INVALID_ARGUMENT,
      `recording batch ${batch.firstSeq}..${batch.lastSeq} refused: ${why}`,
    );
  };
  if (batch.firstSeq < 1 || batch.lastSeq < batch.firstSeq) refuse('needs 1 <= first_seq <= last_seq');
  let previous = batch.firstSeq - 1;
  for (const e of batch.events) {
    if (e.seq <= previous || e.seq > batch.lastSeq) refuse(`event seq ${e.seq} is out of order or outside the batch`);
    previous = e.seq;
    if (!UUID.test(e.sessionId)) refuse(`event ${e.seq} has no session_id UUID`);
    if (!e.time) refuse(`event ${e.seq} has no time`);
    if (!e.body) refuse(`event ${e.seq} has no body`);
  }
}

/** A row of `events` as jsonb_to_recordset reads it. `time` in UTC, as Prisma stores timestamps. */
interface EventRow {
  seq: number;
  session_id: string;
  time: string;
  type: EventType;
  statement_index: number | null;
  kind: string | null;
  text: string | null;
  trace_id: string | null;
  action: string | null;
  data: unknown;
}

function toEventRow(e: RecordingEvent): EventRow {
  const body = e.body!;
  const statement = body.$case === 'statement' ? body.value : undefined;
  const type: EventType =
    body.$case === 'sessionStart' ? 'session_start' : body.$case === 'statement' ? 'statement' : 'session_end';
  return {
    seq: e.seq,
    session_id: e.sessionId,
    time: e.time!.toISOString(),
    type,
    statement_index: statement ? statement.index : null,
    kind: statement?.kind || null,
    text: statement?.text || null,
    trace_id: statement?.traceId || (body.$case === 'sessionStart' ? body.value.traceId : '') || null,
    action: statement?.decision?.action || null,
    data: eventData(e),
  };
}

/**
 * The event as the REST API returns it: its JSON form, with a statement's result as a value (the
 * wire carries it as JSON text; agents of earlier versions sent a Struct, which toJSON reads). A
 * result that is not JSON is kept as the text it is: refusing the batch would stop this agent's
 * recording for good, since it would send the same batch again.
 */
function eventData(e: RecordingEvent): unknown {
  const data = RecordingEvent.toJSON(e) as { statement?: Record<string, unknown> };
  const resultJson = e.body?.$case === 'statement' ? e.body.value.resultJson : '';
  if (!data.statement || !resultJson) return data;
  delete data.statement.resultJson;
  try {
    data.statement.result = JSON.parse(resultJson);
  } catch {
    data.statement.result = { unreadable: resultJson.slice(0, 64 * 1024) };
  }
  return data;
}

/**
 * JSON text that PostgreSQL's jsonb accepts: it refuses the escapes of NUL and of unpaired
 * surrogates (a client's body, or a text cut inside an emoji), and one such value would fail the
 * whole batch on every resend. JSON.stringify writes paired surrogates as they are and escapes
 * only unpaired ones, so every \uD800-\uDFFF escape it wrote is unpaired. An escape preceded by
 * an odd run of backslashes is text, not an escape, and is left alone.
 */
export function storableJson(json: string): string {
  return json.replace(UNSTORABLE_ESCAPE, '$1\\ufffd');
}
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;
