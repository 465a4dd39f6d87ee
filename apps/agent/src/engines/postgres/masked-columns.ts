import { matchesTable, type ColumnMask, type CompiledPolicy, type MaskStyle } from '@portcullis/policy';

/**
 * Where a policy's whole-column masks are in one database, read from its catalog when a session
 * logs in. A result column read as is from a table column carries that column's origin (table
 * oid, column number) in RowDescription, through aliases, subqueries, CTEs and renamed FROM items,
 * so `SELECT ssn AS x` is masked by where x comes from, not by its name.
 */
export interface MaskedColumns {
  /** The masks this was read for; a policy with other column masks needs a new reading. */
  readonly key: string;
  /** "tableOid:columnNumber" → style. */
  readonly byOrigin: ReadonlyMap<string, MaskStyle>;
  /** Tables holding a masked column: a whole row of one (column number 0) holds it too. */
  readonly tables: ReadonlySet<number>;
  /** Names of the unmasked columns of the tables that hold masked ones: what a computed value may read and stay unmasked. */
  readonly unmaskedNames: ReadonlySet<string>;
}

/** Every whole-column mask the policy's rules name (which apply is decided per statement). */
export function columnMasksOf(compiled: CompiledPolicy): ColumnMask[] {
  return compiled.policy.rules.flatMap((r) => r.mask?.columns ?? []);
}

function masksKey(masks: readonly ColumnMask[]): string {
  return JSON.stringify(masks.map((m) => [m.table ?? '', m.column, m.style]));
}

const keys = new WeakMap<CompiledPolicy, string>();
/** The key of a policy's column masks, as `MaskedColumns.key` holds it. */
export function masksKeyOf(compiled: CompiledPolicy): string {
  let key = keys.get(compiled);
  if (key === undefined) keys.set(compiled, (key = masksKey(columnMasksOf(compiled))));
  return key;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Every column of every table, view or foreign table that holds a column some mask names:
 * (oid, number, schema, table, column). Tables are matched by name here; which columns are masked
 * is decided in `readMaskedColumns`, with the policy's own table matching.
 */
export function maskedColumnsQuery(masks: readonly ColumnMask[]): string {
  const names = [...new Set(masks.map((m) => m.column))].map(literal).join(', ');
  return `SELECT a.attrelid::int8, a.attnum, n.nspname, c.relname, a.attname
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attrelid IN (SELECT attrelid FROM pg_catalog.pg_attribute WHERE attname IN (${names}) AND NOT attisdropped)`;
}

export function readMaskedColumns(masks: readonly ColumnMask[], rows: readonly (string | null)[][]): MaskedColumns {
  const byOrigin = new Map<string, MaskStyle>();
  const tables = new Set<number>();
  const maskedNames = new Set<string>();
  const names = new Set<string>();
  for (const [oid, number, schema, table, column] of rows) {
    const mask = masks.find((m) => m.column === column && (!m.table || matchesTable(m.table, { schema: schema!, name: table! })));
    if (mask) {
      byOrigin.set(`${oid}:${number}`, mask.style);
      tables.add(Number(oid));
      maskedNames.add(column!);
    }
    names.add(column!);
  }
  // A name masked in any of these tables is not safe to read anywhere: which table a computed
  // value's column comes from is not known.
  const unmaskedNames = new Set([...names].filter((n) => !maskedNames.has(n)));
  return { key: masksKey(masks), byOrigin, tables, unmaskedNames };
}
