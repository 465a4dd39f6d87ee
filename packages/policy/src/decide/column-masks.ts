import type { MaskStyle } from '../entities.js';
import type { ColumnMask } from '../policy/schema.js';
import type { StatementFacts } from '../sql/analyze.js';
import { matchesTable } from './guardrails.js';

// Statements whose rows are read later by another statement (FETCH) or from another table or
// view, where the masks decided now can no longer follow them.
const KEPT_FOR_LATER = new Set(['DECLARE_CURSOR', 'CREATE_TABLE_AS', 'CREATE_VIEW']);

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

  for (const s of statements) {
    if (!KEPT_FOR_LATER.has(s.kind)) continue;
    if (s.columns.some((c) => c === '*' || masked.has(c)) || s.derived.some((d) => styleOf(d.from))) {
      const what = s.kind === 'DECLARE_CURSOR' ? 'a cursor' : s.kind === 'CREATE_VIEW' ? 'a view' : 'a new table';
      return { refused: `masked columns cannot be masked when read later through ${what}; select them directly` };
    }
  }
  return { columns: [...columns, ...added] };
}
