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
};
// Functions that send a value somewhere other than the result: another session, a setting read
// later, another database.
const SENDS_ELSEWHERE = new Set(['pg_notify', 'set_config', 'dblink', 'dblink_exec', 'pg_logical_emit_message']);

export type FollowedMasks = { columns: ColumnMask[]; refused?: undefined } | { refused: string };

/**
 * Column masks follow a masked column to every name the statements give it: `ssn AS x`,
 * `upper(ssn)`, a subquery's or CTE's column, a FROM item's alias columns, a whole-row value.
 * Results are masked by RowDescription name, so each such name is masked too, in the masked
 * column's style (an innocent column sharing the name is masked as well: the safe side).
 * Refused: a masked column leaving under a name that cannot be known, or kept for a later read.
 */
export function followColumnMasks(columns: readonly ColumnMask[], statements: readonly StatementFacts[]): FollowedMasks {
  if (columns.length === 0) return { columns: [] };
  const tables = statements.flatMap((s) => s.tables);
  const masked = new Map<string, MaskStyle>();
  for (const m of columns) {
    if (m.table && !tables.some((t) => matchesTable(m.table!, t))) continue;
    if (!masked.has(m.column)) masked.set(m.column, m.style);
  }
  if (masked.size === 0) return { columns: [...columns] };
  const anyStyle = masked.values().next().value!;
  const styleOf = (from: readonly string[]): MaskStyle | undefined => {
    for (const c of from) {
      const style = c === '*' ? anyStyle : masked.get(c);
      if (style) return style;
    }
    return undefined;
  };

  const derived = statements.flatMap((s) => s.derived);
  const added: ColumnMask[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const d of derived) {
      if (d.name !== undefined && masked.has(d.name)) continue;
      const style = styleOf(d.from);
      if (!style) continue;
      if (d.name === undefined) {
        return { refused: 'a masked column is selected under a name only the database knows (a UNION whose first branch selects *); list the columns by name' };
      }
      masked.set(d.name, style);
      added.push({ column: d.name, style });
      changed = true;
    }
  }

  const reads = (s: StatementFacts) => s.columns.some((c) => c === '*' || masked.has(c)) || s.derived.some((d) => styleOf(d.from));
  for (const [i, s] of statements.entries()) {
    const why = KEPT_FOR_LATER[s.kind];
    if (why && (reads(s) || statements.some((n, j) => isWithin(statements, j, i) && reads(n)))) {
      return { refused: `${why}; select them directly` };
    }
    const sender = s.functions.find((f) => SENDS_ELSEWHERE.has(f.slice(f.lastIndexOf('.') + 1)));
    if (sender && reads(s)) return { refused: `${sender}() in a statement that reads masked columns could send them elsewhere unmasked` };
  }
  return { columns: [...columns, ...added] };
}

/** Whether statement `j` is written inside statement `i`, at any depth. */
function isWithin(statements: readonly StatementFacts[], j: number, i: number): boolean {
  for (let p = statements[j]!.parent; p !== undefined; p = statements[p]!.parent) if (p === i) return true;
  return false;
}
