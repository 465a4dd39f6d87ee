import {
  columnMaskStyle,
  maskCell,
  maskColumnValue,
  maskContextFor,
  maskText,
  PgType,
  type Decision,
  type MaskContext,
  type MaskPlan,
  type MaskStyle,
  type StatementBudget,
  type TableRef,
} from '@portcullis/policy';
import type { PolicyInForce } from '../../policy/active-policy.js';
import { binaryValueText } from './binary-values.js';
import { ServerCode } from './protocol.js';
import type { MaskedColumns } from './masked-columns.js';
import type { ResultColumn } from './statement-tracker.js';

/** Types whose values cannot hold any entity (too short, or not text): never scanned. */
const NO_ENTITIES = new Set<number>([
  PgType.bool,
  PgType.int2,
  PgType.int4,
  PgType.float4,
  PgType.float8,
  PgType.date,
  PgType.timestamp,
  PgType.timestamptz,
  PgType.uuid,
  26, // oid
  1083, // time
  1186, // interval
  1005, // int2[]
  1007, // int4[]
]);

/**
 * Mask contexts are stateless and a session reuses its decisions (StatementJudge), so one per
 * decision is built once rather than once per result. A decision belongs to one policy in force.
 */
const contexts = new WeakMap<Decision, MaskContext | undefined>();
export function maskContextOf(policy: PolicyInForce, decision: Decision): MaskContext | undefined {
  if (!contexts.has(decision)) contexts.set(decision, maskContextFor(policy.compiled, decision, policy.hashKey));
  return contexts.get(decision);
}

/** What whole-column masks need besides the decision (see followColumnMasks in the policy). */
export interface ColumnMaskFacts {
  /** Tables the statement reads: table-qualified masks apply only to them. */
  tables: readonly TableRef[];
  /** What each result column reads, in order, when the statement says (StatementFacts.results). */
  results?: readonly string[][];
  /** Where the masked columns are in this database, read at login. */
  catalog?: MaskedColumns;
  /** Style of computed columns: the decision's, or the catalog's when the statement reads a table holding masked columns. */
  computed?: MaskStyle;
}

/**
 * A column read as is from a table column is masked by that column's origin; without a reading
 * of the catalog, by its name. A computed column gets the decision's `computed` style unless all
 * it reads are columns known to be unmasked (or nothing at all: a constant, `count(*)`).
 */
function wholeColumnStyle(c: ResultColumn, i: number, masks: MaskPlan | undefined, facts: ColumnMaskFacts): MaskStyle | undefined {
  const { catalog } = facts;
  if (c.tableOid !== 0) {
    if (!catalog) return columnMaskStyle(masks, undefined, c.name) ?? facts.tables.map((t) => columnMaskStyle(masks, t, c.name)).find(Boolean);
    const known =
      c.columnNumber === 0
        ? catalog.tables.has(c.tableOid)
          ? (facts.computed ?? catalog.strictest)
          : undefined
        : catalog.byOrigin.get(`${c.tableOid}:${c.columnNumber}`);
    return known ?? unseenRelationStyle(c, facts.results?.[i], masks, catalog);
  }
  if (!facts.computed) return undefined;
  if (readsOnly(facts.results?.[i], (name) => catalog?.unmaskedNames.has(name) === true)) return undefined;
  return facts.computed;
}

/** Whether the statement says what a result column reads, and every name it reads passes `safe`. */
function readsOnly(reads: readonly string[] | undefined, safe: (name: string) => boolean): boolean {
  return reads?.every((r) => r !== '*' && safe(r)) === true;
}

/**
 * A column of a relation created after the catalog was read at login (a migration while a pool's
 * sessions live): where its masked columns are is not known. Under column masks that apply to the
 * statement it is masked, unless the statement says it reads only names no mask names.
 */
function unseenRelationStyle(c: ResultColumn, reads: readonly string[] | undefined, masks: MaskPlan | undefined, catalog: MaskedColumns): MaskStyle | undefined {
  if (c.tableOid <= catalog.newestOid || masks?.computed === undefined) return undefined;
  if (readsOnly(reads, (name) => !catalog.namedByMasks.has(name.toLowerCase()))) return undefined;
  return masks.computed;
}

/** How one column is masked: not at all, a whole-column style, or entities inside values. */
type ColumnPlan = undefined | { style: MaskStyle } | 'entities';

/** What to do with a DataRow: undefined = forward the same bytes, null = drop it, or new bytes. */
export type RowVerdict = Buffer | null | undefined;

/**
 * One statement's result on its way to the client: applies the decision's masks column by column
 * (RowDescription gives type and format) and the statement's data budget. Built only when there
 * is something to mask or count; rows with nothing to mask leave as the bytes that came.
 */
export class ResultGuard {
  readonly counts = new Map<string, number>();
  private readonly plans: ColumnPlan[] | undefined;
  private readonly ctx: MaskContext | undefined;
  private readonly hashKey: string;
  /** Rows and bytes sent to the client. */
  rows = 0;
  bytes = 0;

  constructor(
    private readonly columns: ResultColumn[] | undefined,
    decision: Decision | undefined,
    policy: PolicyInForce,
    facts: ColumnMaskFacts,
    readonly budget: StatementBudget | undefined,
  ) {
    this.hashKey = policy.hashKey;
    this.ctx = decision ? maskContextOf(policy, decision) : undefined;
    const masks = decision?.masks;
    // Without a RowDescription no column can be told apart: under whole-column masks every value
    // is withheld.
    // (Nor can a column of a relation newer than the catalog's reading be told apart.)
    this.blind = !columns && (facts.computed ?? masks?.computed) !== undefined;
    const byColumn = facts.computed !== undefined || masks?.computed !== undefined || (facts.catalog?.byOrigin.size ?? 0) > 0;
    if (columns && (this.ctx || byColumn)) {
      const plans = columns.map((c, i): ColumnPlan => {
        const style = byColumn ? wholeColumnStyle(c, i, masks, facts) : undefined;
        if (style) return { style };
        return this.ctx && !NO_ENTITIES.has(c.typeOid) ? 'entities' : undefined;
      });
      this.plans = plans.some(Boolean) ? plans : undefined;
    }
  }

  private readonly blind: boolean;

  /**
   * Whether a result of this decision can need a guard at all, known before its columns are: most
   * results have nothing to mask or count, and are answered without building one.
   */
  static needed(policy: PolicyInForce, decision: Decision | undefined): boolean {
    const masks = decision?.masks;
    return policy.compiled.policy.budgets !== undefined || !!masks?.entities.length || !!masks?.columns.length;
  }

  /** Whether anything would be done at all (else no guard is needed). */
  get active(): boolean {
    return this.budget !== undefined || this.plans !== undefined || this.blind || (this.columns === undefined && this.ctx !== undefined);
  }

  get exceededBy(): string | undefined {
    return this.budget?.exceededBy;
  }

  row(buffer: Buffer, start: number, end: number): RowVerdict {
    if (this.budget && this.budget.onRow(end - start) === 'exceeded') return null;
    const out = this.plans || (this.columns === undefined && (this.ctx || this.blind)) ? this.mask(buffer, start) : undefined;
    this.rows++;
    this.bytes += out ? out.length : end - start;
    return out;
  }

  private mask(buffer: Buffer, start: number): RowVerdict {
    const count = buffer.readInt16BE(start + 5);
    let offset = start + 7;
    let replaced: Array<Buffer | null | undefined> | undefined;
    for (let i = 0; i < count; i++) {
      const length = buffer.readInt32BE(offset);
      offset += 4;
      if (length < 0) continue;
      const cell = this.cell(i, buffer, offset, offset + length);
      if (cell !== undefined) (replaced ??= new Array<Buffer | null | undefined>(count))[i] = cell;
      offset += length;
    }
    return replaced ? rebuild(buffer, start, count, replaced) : undefined;
  }

  /** undefined: unchanged; null: SQL NULL; else the new value bytes. */
  private cell(i: number, buffer: Buffer, start: number, end: number): Buffer | null | undefined {
    const column = this.columns?.[i];
    if (this.blind) {
      this.add('COLUMN');
      return null;
    }
    if (!column) {
      // No RowDescription for this result: the type is unknown, so a value holding an entity
      // is sent as NULL (valid for any type) rather than as text the client may not decode.
      return maskText(buffer.toString('utf8', start, end), this.ctx!).findings.length > 0 ? null : undefined;
    }
    const plan = this.plans![i];
    if (!plan) return undefined;
    const format = column.format === 1 ? 'binary' : 'text';
    if (plan !== 'entities') {
      const raw = format === 'binary' && !isTextLike(column.typeOid) ? '' : buffer.toString('utf8', start, end);
      const masked = maskColumnValue(raw, column.typeOid, plan.style, { hashKey: this.hashKey, format, label: column.name });
      this.add('COLUMN');
      return masked === null ? null : Buffer.from(masked, 'utf8');
    }
    if (format === 'binary') return this.binaryCell(column.typeOid, buffer, start, end);
    const raw = buffer.toString('utf8', start, end);
    const masked = maskCell(raw, column.typeOid, this.ctx!, this.counts as Map<never, number>);
    if (masked === raw) return undefined;
    return masked === null ? null : Buffer.from(masked, 'utf8');
  }

  /** Binary format: text-like and json carry UTF-8 text, jsonb a version byte then text. */
  private binaryCell(typeOid: number, buffer: Buffer, start: number, end: number): Buffer | null | undefined {
    if (isTextLike(typeOid) || typeOid === PgType.json) {
      const raw = buffer.toString('utf8', start, end);
      const masked = maskCell(raw, typeOid === PgType.json ? PgType.json : PgType.text, this.ctx!, this.counts as Map<never, number>);
      if (masked === raw) return undefined;
      return masked === null ? null : Buffer.from(masked, 'utf8');
    }
    if (typeOid === PgType.jsonb && end > start && buffer[start] === 1) {
      const raw = buffer.toString('utf8', start + 1, end);
      const masked = maskCell(raw, PgType.jsonb, this.ctx!, this.counts as Map<never, number>);
      if (masked === raw) return undefined;
      return masked === null ? null : Buffer.concat([Buffer.from([1]), Buffer.from(masked, 'utf8')]);
    }
    // bigint, numeric and arrays hold digits or text too (a card number in a numeric, e-mails
    // in a text[]): read as text, and sent as NULL when they hold an entity, as in the text format.
    // Other binary values (bytea, dates, extension types) pass as they are.
    const text = binaryValueText(typeOid, buffer, start, end);
    if (text === undefined) return undefined;
    const found = this.ctx!.scanner.scan(text, this.ctx!.entities)[0];
    if (!found) return undefined;
    this.add(found.entity);
    return null;
  }

  private add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

function isTextLike(typeOid: number): boolean {
  return (
    typeOid === PgType.text ||
    typeOid === PgType.varchar ||
    typeOid === PgType.bpchar ||
    typeOid === PgType.name ||
    typeOid === PgType.char ||
    typeOid === PgType.unknown ||
    typeOid === PgType.xml
  );
}

/** A new DataRow with some cells replaced; the length header is computed anew. */
function rebuild(buffer: Buffer, start: number, count: number, replaced: Array<Buffer | null | undefined>): Buffer {
  const cells: Array<[number, number] | Buffer | null> = [];
  let offset = start + 7;
  let length = 4 + 2;
  for (let i = 0; i < count; i++) {
    const size = buffer.readInt32BE(offset);
    offset += 4;
    const value = replaced[i];
    if (value !== undefined) {
      cells.push(value);
      length += 4 + (value ? value.length : 0);
    } else {
      cells.push(size < 0 ? null : [offset, offset + size]);
      length += 4 + (size < 0 ? 0 : size);
    }
    if (size > 0) offset += size;
  }
  const out = Buffer.allocUnsafe(1 + length);
  out[0] = ServerCode.DataRow;
  out.writeInt32BE(length, 1);
  out.writeInt16BE(count, 5);
  let at = 7;
  for (const cell of cells) {
    if (cell === null) {
      out.writeInt32BE(-1, at);
      at += 4;
    } else if (Buffer.isBuffer(cell)) {
      out.writeInt32BE(cell.length, at);
      at += 4 + cell.copy(out, at + 4);
    } else {
      out.writeInt32BE(cell[1] - cell[0], at);
      at += 4 + buffer.copy(out, at + 4, cell[0], cell[1]);
    }
  }
  return out;
}
