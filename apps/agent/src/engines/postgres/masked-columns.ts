import { matchesTable, sameIgnoringCase, type ColumnMask, type CompiledPolicy, type MaskStyle } from '@portcullis/policy';

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
  /** Their names: a statement reading one computes from masked values even if no rule named it (a child table). */
  readonly tableNames: ReadonlySet<string>;
  /** The style for computed values when no decision gives one. */
  readonly strictest: MaskStyle;
  /** Names of the unmasked columns of the tables that hold masked ones: what a computed value may read and stay unmasked. */
  readonly unmaskedNames: ReadonlySet<string>;
  /** The column names the masks name, in lower case. */
  readonly namedByMasks: ReadonlySet<string>;
  /**
   * The newest relation oid at login: a column read from a relation created since (a migration
   * while a pool's sessions live, a temporary table) has an origin this reading never saw.
   */
  readonly newestOid: number;
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

// The query reads names as UTF-8 hex and names every operator, function and type with its schema:
// it runs with the client's search_path and client_encoding, which could otherwise make it match
// nothing (an operator of the client's own in the search path, LATIN1 bytes).
const hex = (expr: string) => `pg_catalog.encode(pg_catalog.convert_to(${expr}::pg_catalog.text, 'UTF8'), 'hex')`;
const utf8 = (s: string) => `pg_catalog.convert_from(pg_catalog.decode('${Buffer.from(s, 'utf8').toString('hex')}', 'hex'), 'UTF8')`;

/** The column names masks name, in lower case: SQL folds unquoted names, and masks match in any case. */
const namesOf = (masks: readonly ColumnMask[]): Set<string> => new Set(masks.map((m) => m.column.toLowerCase()));

/** The column number of the one row that carries the newest relation oid instead of a column. */
const NEWEST_OID_ROW = -1;

/**
 * Every column of every table, view or foreign table holding a column some mask names, with the
 * tables it inherits from (a partition or child table holds its parent's column under another
 * table oid): (oid, number, schema, table, column, lineage) with names in UTF-8 hex, lineage as
 * "schema.table" pairs; and one row more with the newest relation oid. Which columns are masked
 * is decided in `readMaskedColumns`.
 */
export function maskedColumnsQuery(masks: readonly ColumnMask[]): string {
  // In any letter case, as the policy matches names (see matchesTable); which are masked is decided below.
  const names = [...namesOf(masks)].map(utf8).join(', ');
  const eq = 'OPERATOR(pg_catalog.=)';
  return `WITH RECURSIVE rel AS (
  SELECT DISTINCT attrelid AS oid FROM pg_catalog.pg_attribute
  WHERE pg_catalog.lower(attname::pg_catalog.text) ${eq} ANY (ARRAY[${names}]) AND NOT attisdropped
), up(relid, ancestor) AS (
  SELECT oid, oid FROM rel
  UNION SELECT up.relid, i.inhparent FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid ${eq} up.ancestor
)
SELECT a.attrelid::pg_catalog.int8, a.attnum, ${hex('n.nspname')}, ${hex('c.relname')}, ${hex('a.attname')},
  (SELECT pg_catalog.string_agg(${hex('pn.nspname')} OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) ${hex('pc.relname')}, ',')
   FROM up JOIN pg_catalog.pg_class pc ON pc.oid ${eq} up.ancestor JOIN pg_catalog.pg_namespace pn ON pn.oid ${eq} pc.relnamespace
   WHERE up.relid ${eq} a.attrelid)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid ${eq} a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid ${eq} c.relnamespace
WHERE a.attrelid ${eq} ANY (ARRAY(SELECT oid FROM rel)) AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
  AND c.relkind ${eq} ANY (ARRAY['r', 'p', 'v', 'm', 'f']::pg_catalog."char"[])
UNION ALL SELECT (SELECT pg_catalog.max(oid) FROM pg_catalog.pg_class)::pg_catalog.int8, ${NEWEST_OID_ROW}::pg_catalog.int2, NULL, NULL, NULL, NULL`;
}

const fromHex = (s: string | null | undefined) => Buffer.from(s ?? '', 'hex').toString('utf8');

export function readMaskedColumns(masks: readonly ColumnMask[], rows: readonly (string | null)[][]): MaskedColumns {
  const byOrigin = new Map<string, MaskStyle>();
  const tables = new Set<number>();
  const tableNames = new Set<string>();
  const maskedNames = new Set<string>();
  const names = new Set<string>();
  // Not read (no column masks): no relation counts as new.
  let newestOid = 0xffffffff;
  for (const [oid, number, schemaHex, tableHex, columnHex, lineage] of rows) {
    if (Number(number) === NEWEST_OID_ROW) {
      newestOid = Number(oid);
      continue;
    }
    const column = fromHex(columnHex);
    // The table itself and every table it inherits from.
    const line = [`${schemaHex}.${tableHex}`, ...(lineage ?? '').split(',')].filter(Boolean).map((pair) => {
      const [schema, name] = pair.split('.');
      return { schema: fromHex(schema!), name: fromHex(name!) };
    });
    const mask = masks.find((m) => sameIgnoringCase(m.column, column) && (!m.table || line.some((t) => matchesTable(m.table!, t, true))));
    if (mask) {
      byOrigin.set(`${oid}:${number}`, mask.style);
      tables.add(Number(oid));
      tableNames.add(line[0]!.name);
      maskedNames.add(column);
    }
    names.add(column);
  }
  // A name masked in any of these tables is not safe to read anywhere: which table a computed
  // value's column comes from is not known.
  const unmaskedNames = new Set([...names].filter((n) => !maskedNames.has(n)));
  const strictest: MaskStyle = masks.some((m) => m.style === 'null') ? 'null' : 'redact';
  return {
    key: masksKey(masks),
    byOrigin,
    tables,
    tableNames,
    strictest,
    unmaskedNames,
    namedByMasks: namesOf(masks),
    newestOid,
  };
}
