import type { MaskStyle } from '../entities.js';
import type { ColumnMask } from '../policy/schema.js';
import type { StatementFacts } from '../sql/analyze.js';
import { matchesTable } from './guardrails.js';

// Statements whose rows are read later by another statement (FETCH) or from another table or
// view, or whose code can hand values out in notices, errors and settings: the masks decided now
// cannot follow what they read.
const KEPT_FOR_LATER: Record<string, string> = {
  DECLARE_CURSOR: 'masked columns cannot be masked when read later through a cursor',
  CREATE_TABLE_AS: 'masked columns cannot be masked when read later through a new table',
  CREATE_VIEW: 'masked columns cannot be masked when read later through a view',
  CREATE_FUNCTION: 'masked columns cannot be masked when read later through a function',
  DO: 'a DO block that reads masked columns could hand them out in notices and errors',
  ALTER_TABLE: 'a column computed from or converted with a masked column would hold its values',
};
// Functions that send a value somewhere other than the result: another session, a setting, a
// large object or a lock read later, another database.
const SENDS_ELSEWHERE = new Set([
  'pg_notify',
  'set_config',
  'dblink',
  'dblink_exec',
  'pg_logical_emit_message',
  'lo_from_bytea',
  'lo_put',
  'lowrite',
  'lo_import',
  'pg_advisory_lock',
  'pg_advisory_xact_lock',
  'pg_advisory_lock_shared',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_lock_shared',
  'pg_try_advisory_xact_lock_shared',
]);
const WRITES = new Set(['INSERT', 'UPDATE', 'MERGE']);

export type FollowedMasks = { columns: ColumnMask[]; computed?: MaskStyle; refused?: undefined } | { refused: string };

/**
 * The whole-column masks of a decision, as the agent applies them: a result column read as is
 * from a masked column is masked by its origin (RowDescription's table and column, which follow
 * aliases, subqueries and CTEs). A computed one (`upper(ssn)`, a UNION, a function in FROM) gets
 * the `computed` style when the statement reads a table with masked columns, unless it reads only
 * columns the agent knows are not masked: never `partial` or `hash`, whose pieces of computed
 * values would add up to the value. Refused: what reads a masked column and keeps or sends it
 * where no mask follows.
 */
export function followColumnMasks(columns: readonly ColumnMask[], statements: readonly StatementFacts[]): FollowedMasks {
  if (columns.length === 0) return { columns: [] };
  const tables = statements.flatMap((s) => s.tables);
  const masked = new Map<string, MaskStyle>();
  for (const m of columns) {
    if (m.table && !tables.some((t) => matchesTable(m.table!, t, true))) continue;
    const name = m.column.toLowerCase();
    if (!masked.has(name)) masked.set(name, m.style);
  }
  if (masked.size === 0) return { columns: [...columns] };
  const reads = (from: readonly string[]) => from.some((c) => c === '*' || masked.has(c.toLowerCase()));
  const readsAny = (s: StatementFacts) => reads(s.columns) || s.derived.some((d) => reads(d.from));

  for (const [i, s] of statements.entries()) {
    const why = KEPT_FOR_LATER[s.kind];
    if (why && (readsAny(s) || statements.some((n, j) => isWithin(statements, j, i) && readsAny(n)))) {
      return { refused: `${why}; select them directly` };
    }
    const sender = s.functions.find((f) => SENDS_ELSEWHERE.has(f.slice(f.lastIndexOf('.') + 1)));
    if (sender && readsAny(s)) return { refused: `${sender}() in a statement that reads masked columns could send them elsewhere unmasked` };
    const stores = (n: StatementFacts) => n.derived.some((d) => !d.returned && reads(d.from));
    if (WRITES.has(s.kind) && (stores(s) || statements.some((n, j) => isWithin(statements, j, i) && stores(n)))) {
      return { refused: 'writing values read from a masked column would store them where the mask does not follow' };
    }
  }
  const computed: MaskStyle = [...masked.values()].includes('null') ? 'null' : 'redact';
  return { columns: [...columns], computed };
}

/** Whether statement `j` is written inside statement `i`, at any depth. */
function isWithin(statements: readonly StatementFacts[], j: number, i: number): boolean {
  for (let p = statements[j]!.parent; p !== undefined; p = statements[p]!.parent) if (p === i) return true;
  return false;
}
