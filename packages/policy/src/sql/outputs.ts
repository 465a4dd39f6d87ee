/**
 * Which result columns a statement computes from which columns. Column masks are applied by the
 * name a result column has in the RowDescription, so a masked column that leaves under another
 * name (`ssn AS x`, `upper(ssn)`, a subquery, a renamed CTE or FROM item, a whole-row reference)
 * must pass its mask on to that name. These facts let decide() do so without a catalog.
 */

/** A named value a statement computes, and the column names it is computed from. */
export interface DerivedColumn {
  /** The name it is known by: a result column, a renamed FROM-item column, an UPDATE target.
   *  Undefined when no name can be known here (the first branch of a UNION selects `*`). */
  name: string | undefined;
  /** Column names read (last name part); "*" for a whole row (`t.*` inside an expression, `t`,
   *  a FROM item renamed by an alias column list). */
  from: string[];
}

type Node = Record<string, unknown>;
const isObj = (v: unknown): v is Node => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (isObj(v) && isObj(v.String) ? (v.String.sval as string) : undefined);
const strings = (list: unknown): string[] => ((list as unknown[]) ?? []).map(str).filter((s): s is string => !!s);

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

const isStar = (val: unknown): boolean => {
  if (!isObj(val) || !isObj(val.ColumnRef)) return false;
  const fields = (val.ColumnRef.fields as unknown[]) ?? [];
  const last = fields[fields.length - 1];
  return isObj(last) && 'A_Star' in last;
};

const KEYWORD_NAMES: Record<string, string> = {
  CaseExpr: 'case',
  A_ArrayExpr: 'array',
  RowExpr: 'row',
  CoalesceExpr: 'coalesce',
  GroupingFunc: 'grouping',
  MergeSupportFunc: 'merge_action',
  XmlSerialize: 'xmlserialize',
  JsonObjectConstructor: 'json_object',
  JsonArrayConstructor: 'json_array',
  JsonArrayQueryConstructor: 'json_array',
  JsonObjectAgg: 'json_objectagg',
  JsonArrayAgg: 'json_arrayagg',
  JsonParseExpr: 'json',
  JsonScalarExpr: 'json_scalar',
  JsonSerializeExpr: 'json_serialize',
};

/**
 * The name PostgreSQL gives a result column written without an alias: FigureColname() in
 * src/backend/parser/parse_target.c, for the nodes that can carry a column. "?column?" when it
 * gives none, as PostgreSQL does.
 */
export function figureName(val: unknown): string {
  return figure(val) ?? '?column?';
}

function figure(val: unknown): string | undefined {
  if (!isObj(val)) return undefined;
  const [kind, node] = Object.entries(val)[0] ?? [];
  if (!kind || !isObj(node)) return undefined;
  switch (kind) {
    case 'ColumnRef': {
      const fields = (node.fields as unknown[]) ?? [];
      return str(fields[fields.length - 1]);
    }
    case 'A_Indirection': {
      const list = (node.indirection as unknown[]) ?? [];
      return str(list[list.length - 1]) ?? figure(node.arg);
    }
    case 'FuncCall': {
      const names = strings(node.funcname);
      return names[names.length - 1];
    }
    case 'A_Expr':
      return node.kind === 'AEXPR_NULLIF' ? 'nullif' : undefined;
    case 'TypeCast': {
      const inner = figure(node.arg);
      if (inner) return inner;
      const names = strings(isObj(node.typeName) ? node.typeName.names : undefined);
      return names[names.length - 1];
    }
    case 'CollateClause':
      return figure(node.arg);
    case 'SubLink':
      if (node.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (node.subLinkType === 'ARRAY_SUBLINK') return 'array';
      if (node.subLinkType === 'EXPR_SUBLINK' && isObj(node.subselect) && isObj(node.subselect.SelectStmt)) {
        const first = ((node.subselect.SelectStmt.targetList as unknown[]) ?? [])[0];
        const target = isObj(first) && isObj(first.ResTarget) ? first.ResTarget : undefined;
        if (target) return typeof target.name === 'string' ? target.name : figure(target.val);
      }
      return undefined;
    case 'MinMaxExpr':
      return node.op === 'IS_LEAST' ? 'least' : 'greatest';
    case 'XmlExpr': {
      const op = String(node.op ?? '');
      return op.startsWith('IS_XML') ? op.slice(3).toLowerCase() : undefined;
    }
    case 'JsonFuncExpr': {
      const op = String(node.op ?? '');
      return op.startsWith('JSON_') && op.endsWith('_OP') ? op.slice(0, -3).toLowerCase() : undefined;
    }
    case 'SQLValueFunction':
      return String(node.op ?? '').replace(/^SVFOP_/, '').replace(/_N$/, '').toLowerCase() || undefined;
    default:
      return KEYWORD_NAMES[kind];
  }
}

/**
 * What a SELECT list, RETURNING list or UPDATE SET gives: each entry's name (its alias, or the
 * name PostgreSQL figures) and the columns it reads. `*` entries are left out: the names they
 * expand to arrive in the RowDescription as the columns' own names.
 */
export function targetColumns(list: unknown): DerivedColumn[] {
  const out: DerivedColumn[] = [];
  for (const item of (list as unknown[]) ?? []) {
    const t = isObj(item) && isObj(item.ResTarget) ? item.ResTarget : undefined;
    if (!t || t.val === undefined || isStar(t.val)) continue;
    out.push({ name: typeof t.name === 'string' ? t.name : figureName(t.val), from: columnSources(t.val) });
  }
  return out;
}

/**
 * A UNION / INTERSECT / EXCEPT takes its column names from its first branch and its values from
 * every branch. Which branch column lands at which position is not followed: every name of the
 * first branch is taken to read what any branch reads. A first branch selecting `*` gives names
 * that only the catalog knows, an entry with no name.
 */
export function setOperationColumns(select: Node): DerivedColumn[] {
  const branches: Node[] = [];
  const flatten = (s: unknown) => {
    const n = isObj(s) ? ((s.SelectStmt as Node | undefined) ?? s) : undefined;
    if (!n) return;
    if (n.op && n.op !== 'SETOP_NONE') {
      flatten(n.larg);
      flatten(n.rarg);
    } else branches.push(n);
  };
  flatten(select);
  const from: string[] = [];
  for (const b of branches) {
    for (const item of (b.targetList as unknown[]) ?? []) {
      const t = isObj(item) && isObj(item.ResTarget) ? item.ResTarget : undefined;
      if (t) columnSources(t.val, from);
    }
    if (b.valuesLists) columnSources(b.valuesLists, from);
  }
  if (from.length === 0) return [];
  const first = (branches[0]?.targetList as unknown[]) ?? [];
  const names: DerivedColumn[] = [];
  for (const item of first) {
    const t = isObj(item) && isObj(item.ResTarget) ? item.ResTarget : undefined;
    if (!t) continue;
    if (isStar(t.val)) names.push({ name: undefined, from });
    else names.push({ name: typeof t.name === 'string' ? t.name : figureName(t.val), from });
  }
  return names;
}

/**
 * Names a FROM item gives to what it reads: an alias column list (`AS t(a, b)`, `WITH w(x)`),
 * renaming columns by position, reads the whole row; a function in FROM is named by its alias,
 * its own name, its column list, and the columns of XMLTABLE / JSON_TABLE.
 */
export function fromItemColumns(kind: string, node: Node): DerivedColumn[] {
  const out: DerivedColumn[] = [];
  const alias = isObj(node.alias) ? node.alias : undefined;
  const renamed = kind === 'CommonTableExpr' ? strings(node.aliascolnames) : strings(alias?.colnames);
  for (const name of renamed) out.push({ name, from: ['*'] });
  if (kind === 'RangeFunction' || kind === 'RangeTableFunc' || kind === 'JsonTable') {
    const from = columnSources(kind === 'RangeFunction' ? node.functions : node);
    if (from.length > 0) {
      const names = new Set<string>();
      if (typeof alias?.aliasname === 'string') names.add(alias.aliasname);
      collectDefinedNames(node, names);
      for (const name of names) out.push({ name, from });
    }
  }
  return out;
}

/** Function names, column definitions and table-function column names inside a FROM item. */
function collectDefinedNames(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) return v.forEach((x) => collectDefinedNames(x, into));
  if (!isObj(v)) return;
  if (isObj(v.FuncCall)) {
    const names = strings(v.FuncCall.funcname);
    if (names.length > 0) into.add(names[names.length - 1]!);
  }
  if (isObj(v.ColumnDef) && typeof v.ColumnDef.colname === 'string') into.add(v.ColumnDef.colname);
  if (isObj(v.RangeTableFuncCol) && typeof v.RangeTableFuncCol.colname === 'string') into.add(v.RangeTableFuncCol.colname);
  if (isObj(v.JsonTableColumn) && typeof v.JsonTableColumn.name === 'string') into.add(v.JsonTableColumn.name);
  for (const child of Object.values(v)) if (typeof child === 'object') collectDefinedNames(child, into);
}
