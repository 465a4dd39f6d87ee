/**
 * Which columns a statement's computed values read. The agent masks a result column read as is
 * from a masked table column by its origin (RowDescription names the table and column through
 * aliases, subqueries and CTEs); a computed one (an expression, a UNION, a function in FROM) has
 * no origin, so whether it may hold a masked value is told from what it reads.
 */

/** A value a statement computes: a SELECT list entry, a RETURNING entry, an UPDATE target, a VALUES column. */
export interface DerivedColumn {
  /** Column names read (last name part); "*" for a whole row (`t.*` in an expression, or `t`). */
  from: string[];
  /** A RETURNING entry: sent to the client, not stored. */
  returned?: boolean;
}

type Node = Record<string, unknown>;
const isObj = (v: unknown): v is Node => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (isObj(v) && isObj(v.String) ? (v.String.sval as string) : undefined);

/** Every column a value reads, at any depth (subqueries included). */
export function columnSources(v: unknown, into: string[] = []): string[] {
  if (Array.isArray(v)) {
    for (const x of v) columnSources(x, into);
    return into;
  }
  if (!isObj(v)) return into;
  if (isObj(v.ColumnRef)) {
    const fields = (v.ColumnRef.fields as unknown[]) ?? [];
    const last = fields[fields.length - 1];
    const name = str(last) ?? (isObj(last) && 'A_Star' in last ? '*' : undefined);
    if (name && !into.includes(name)) into.push(name);
    return into;
  }
  for (const child of Object.values(v)) if (typeof child === 'object') columnSources(child, into);
  return into;
}

const targetOf = (item: unknown): Node | undefined => (isObj(item) && isObj(item.ResTarget) ? item.ResTarget : undefined);

/** `*`, `t.*` or `(expr).*`: expands to columns only the catalog knows. */
const isStar = (val: unknown): boolean => {
  if (!isObj(val)) return false;
  const path = isObj(val.ColumnRef) ? val.ColumnRef.fields : isObj(val.A_Indirection) ? val.A_Indirection.indirection : undefined;
  const list = (path as unknown[] | undefined) ?? [];
  const last = list[list.length - 1];
  return isObj(last) && 'A_Star' in last;
};

// What in a statement can give a column of a table another name, so that a name read in a
// computed column no longer says which column it is: subqueries and functions in FROM, CTEs,
// alias column lists.
const RENAMERS = ['"RangeSubselect"', '"RangeFunction"', '"RangeTableFunc"', '"JsonTable"', '"withClause"', '"colnames"', '"aliascolnames"'];

/** The entries of a SELECT list, RETURNING list or UPDATE SET with what each reads (`*`: every column). */
export function targetColumns(list: unknown, returned = false): DerivedColumn[] {
  const out: DerivedColumn[] = [];
  for (const item of (list as unknown[]) ?? []) {
    const t = targetOf(item);
    if (!t || t.val === undefined) continue;
    const from = isStar(t.val) ? ['*'] : columnSources(t.val);
    out.push(returned ? { from, returned } : { from });
  }
  return out;
}

/**
 * What each result column reads, in RowDescription order, when the list lines up with it (no
 * `*`) and the names it reads are the table columns of those names (nothing in `statement`
 * renames them). Undefined otherwise.
 */
export function resultReads(list: unknown, statement: unknown): string[][] | undefined {
  const text = JSON.stringify(statement);
  if (RENAMERS.some((key) => text.includes(key))) return undefined;
  const items = (list as unknown[]) ?? [];
  const out: string[][] = [];
  for (const item of items) {
    const t = targetOf(item);
    if (!t || t.val === undefined || isStar(t.val)) return undefined;
    out.push(columnSources(t.val));
  }
  return out;
}
