import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query';
import { numericShape } from './numeric-shape.js';
import { isStatementNode, NODE_KINDS, type StatementKind } from './kinds.js';
import { columnSources, resultReads, targetColumns, type DerivedColumn } from './outputs.js';

export interface TableRef {
  schema?: string;
  name: string;
}

/**
 * Facts about one statement. A statement written inside another one (a data-modifying CTE, the
 * target of EXPLAIN or PREPARE, a rule action, a statement inside a DO block or a function body)
 * is its own entry with `nested: true`, so every rule and guardrail sees it on its own.
 */
export interface StatementFacts {
  kind: StatementKind;
  /** libpg-query's node name, e.g. "DeleteStmt" (useful when kind is OTHER). */
  node: string;
  nested: boolean;
  /** Index in `statements` of the statement this one is written in. */
  parent?: number;
  /** The statement's own SQL text (top-level statements only). */
  text?: string;
  /** Tables read or written anywhere in this statement (its nested statements list their own). */
  tables: TableRef[];
  /** The table an INSERT/UPDATE/DELETE/MERGE/COPY writes or reads. */
  target?: TableRef;
  /** Column names referenced (last name part; "*" for a star). */
  columns: string[];
  /** Values this statement computes from columns: SELECT and RETURNING entries, UPDATE targets, VALUES. */
  derived: DerivedColumn[];
  /**
   * Top-level SELECT or RETURNING: what each result column reads, in order, when the list has no
   * `*` and is not a UNION (so it lines up with the RowDescription). "*" marks a whole row.
   */
  results?: string[][];
  /** Functions called, lower case, schema-qualified when written so ("pg_catalog.pg_read_file"). */
  functions: string[];
  /**
   * UPDATE/DELETE/SELECT: there is a WHERE clause that refers to at least one column (or is
   * WHERE CURRENT OF). `WHERE true` or `WHERE 1 = 1` do not count.
   */
  hasWhere: boolean;
  /**
   * Columns that the WHERE pins to a finite list of constants or parameters in every branch:
   * `id = 1`, `id IN (1, 2)`, `id = ANY($1)`, combined with AND (any side) or OR (all sides).
   * `id IN (SELECT ...)` does not pin.
   */
  whereNarrowsBy: string[];
  hasLimit: boolean;
  copy?: { direction: 'from' | 'to'; program: boolean; serverFile: boolean };
  /** SET/RESET/set_config(): the setting name, lower case (e.g. "role", "session_authorization"). */
  settings: string[];
  /**
   * SET name = value and set_config(name, value): the value when it is a constant (undefined when
   * computed). A set_config whose name is computed is named "*".
   */
  settingValues: { name: string; value: string | undefined }[];
  /** DO and CREATE FUNCTION: body language. */
  language?: string;
  /** DO/function body runs SQL built at run time (EXECUTE ...), which no parser can see. */
  dynamicSql: boolean;
  /** DO/function body that could not be read (unknown language or unparsable). */
  opaqueBody: boolean;
  explainAnalyze?: boolean;
  /** MERGE with a WHEN ... THEN DELETE action. */
  mergeDeletes?: boolean;
  /** PREPARE name / EXECUTE name. */
  prepareName?: string;
  /** DECLARE name / CLOSE name: the cursor (a portal the protocol can run too) it creates or drops; CLOSE ALL: '*'. */
  cursorName?: string;
  executeName?: string;
  /** EXECUTE of a statement whose PREPARE this analysis did not see. */
  unresolvedExecute?: boolean;
}

export interface SqlAnalysis {
  /** Top-level statements first in order of appearance, each followed by its nested ones. */
  statements: StatementFacts[];
  /** More than one top-level statement in one string. */
  multiStatement: boolean;
  /** The parser rejected the text: nothing else is known, and decide() blocks. */
  parseError?: { message: string; position?: number };
}

export interface AnalyzeOptions {
  /**
   * Statements prepared earlier in this session (SQL PREPARE), by name; EXECUTE name is
   * analysed as what it runs. Keep them with `PreparedStatements`.
   */
  prepared?: ReadonlyMap<string, readonly StatementFacts[]>;
}

let ready: Promise<void> | undefined;

/** Loads the PostgreSQL parser (WASM). Call once at start-up before analyzeSql. */
export function init(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

const parseFailed = (e: unknown): SqlAnalysis['parseError'] => {
  const err = e as { message?: string; sqlDetails?: { cursorPosition?: number } };
  return { message: err.message ?? String(e), position: err.sqlDetails?.cursorPosition };
};

// Recent analyses by text: drivers and ORMs send the same parameterised statements again and
// again, and parsing is the costly part (~100 µs). Only analyses that do not depend on the
// session (no EXECUTE) are kept. Results are shared: treat them as read-only.
const CACHE_SIZE = 4000;
const CACHEABLE_LENGTH = 16_384;
const cache = new Map<string, SqlAnalysis>();

/** Facts about every statement in `sql`, from PostgreSQL's own parser. Needs `await init()` first. */
export function analyzeSql(sql: string, options: AnalyzeOptions = {}): SqlAnalysis {
  const hit = cached(sql);
  if (hit) return hit;
  // A text that differs from one seen before only in numeric constants has the same facts.
  const shape = sql.length <= CACHEABLE_LENGTH ? numericShape(sql) : undefined;
  const twin = shape === undefined ? undefined : cached(SHAPE + shape);
  if (twin) return withOwnText(twin, sql);
  const analysis = analyzeUncached(sql, options);
  if (sql.length <= CACHEABLE_LENGTH && !analysis.statements.some((s) => s.kind === 'EXECUTE')) {
    remember(sql, analysis);
    if (shape !== undefined && !analysis.multiStatement && !analysis.parseError) remember(SHAPE + shape, analysis);
  }
  return analysis;
}

/** Shape keys live in the same cache; no SQL text starts with this character. */
const SHAPE = '\u0000';

function cached(key: string): SqlAnalysis | undefined {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // keep the most recently used at the end
    cache.set(key, hit);
  }
  return hit;
}

function remember(key: string, analysis: SqlAnalysis): void {
  cache.set(key, analysis);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

/** A single-statement twin's facts, with this text's own statement text. */
function withOwnText(twin: SqlAnalysis, sql: string): SqlAnalysis {
  const text = sql.trim().replace(/;\s*$/, '').trim();
  return { ...twin, statements: twin.statements.map((s) => (s.nested ? s : { ...s, text })) };
}

function analyzeUncached(sql: string, options: AnalyzeOptions): SqlAnalysis {
  let tree: { stmts?: { stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (e) {
    return { statements: [], multiStatement: false, parseError: parseFailed(e) };
  }
  const stmts = tree.stmts ?? [];
  const bytes = Buffer.from(sql, 'utf8');
  const statements: StatementFacts[] = [];
  const walker = new Walker(statements, options);
  for (const s of stmts) {
    const start = s.stmt_location ?? 0;
    const text = bytes
      .subarray(start, s.stmt_len ? start + s.stmt_len : bytes.length)
      .toString('utf8')
      .trim();
    walker.top(s.stmt, text);
  }
  return { statements, multiStatement: stmts.length > 1 };
}

/** Session memory of SQL-level PREPARE statements, so EXECUTE is judged by what it runs. */
export class PreparedStatements {
  private readonly byName = new Map<string, StatementFacts[]>();

  get map(): ReadonlyMap<string, readonly StatementFacts[]> {
    return this.byName;
  }

  /** Records PREPAREs and forgets DEALLOCATEd statements of an analysis the session ran. */
  remember(analysis: SqlAnalysis): void {
    const list = analysis.statements;
    list.forEach((s, i) => {
      if (s.kind !== 'PREPARE' || !s.prepareName) return;
      // Every statement written inside the PREPARE, at any depth.
      const inside = new Set([i]);
      const body = list.filter((n, j) => n.parent !== undefined && inside.has(n.parent) && inside.add(j));
      this.byName.set(s.prepareName, body);
    });
    for (const s of list) {
      if (s.kind !== 'DEALLOCATE') continue;
      if (s.prepareName) this.byName.delete(s.prepareName);
      else this.byName.clear();
    }
  }
}

type Node = Record<string, unknown>;
const isObj = (v: unknown): v is Node => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (isObj(v) && isObj(v.String) ? (v.String.sval as string) : undefined);

function newFacts(kind: StatementKind, node: string, parent?: number): StatementFacts {
  return {
    kind,
    node,
    nested: parent !== undefined,
    parent,
    tables: [],
    columns: [],
    derived: [],
    functions: [],
    hasWhere: false,
    whereNarrowsBy: [],
    hasLimit: false,
    settings: [],
    settingValues: [],
    dynamicSql: false,
    opaqueBody: false,
  };
}

class Walker {
  private cteNames = new Set<string>();
  /** Tables, aliases and CTEs in scope of each statement: a bare `t` naming one is a whole row. */
  private readonly relations = new Map<StatementFacts, Set<string>>();
  private topText = '';

  constructor(
    private readonly out: StatementFacts[],
    private readonly options: AnalyzeOptions,
  ) {}

  top(stmt: Node, text: string): void {
    this.cteNames = new Set();
    this.topText = text;
    collectCteNames(stmt, this.cteNames);
    const [name, body] = Object.entries(stmt)[0] ?? [];
    if (!name || !isObj(body)) return;
    const facts = this.statement(name, body, undefined);
    facts.text = text;
  }

  private statement(name: string, body: Node, parent: number | undefined): StatementFacts {
    const facts = newFacts(kindOf(name, body), name, parent);
    const index = this.out.push(facts) - 1;
    this.relations.set(facts, new Set(this.cteNames));
    this.describe(name, body, facts, index);
    this.walk(body, facts, index);
    const relations = this.relations.get(facts)!;
    this.relations.delete(facts);
    // A bare name that names a table or alias in scope (`SELECT c FROM customers c`) is its whole row.
    const wholeRows = (from: string[]) => {
      if (!from.includes('*') && from.some((c) => relations.has(c))) from.push('*');
    };
    for (const d of facts.derived) wholeRows(d.from);
    facts.results?.forEach(wholeRows);
    return facts;
  }

  /** Facts read from the statement node itself (the walk adds tables, columns and functions). */
  private describe(name: string, body: Node, f: StatementFacts, index: number): void {
    const where = body.whereClause;
    if (where !== undefined) {
      f.hasWhere = refersToRow(where);
      f.whereNarrowsBy = [...narrowedColumns(where)];
    }
    if (isObj(body.relation) && name !== 'SelectStmt') f.target = tableOf(body.relation);
    const returning = isObj(body.returningClause) ? body.returningClause.exprs : undefined;
    if (!f.nested && returning !== undefined) f.results = resultReads(returning, body);
    switch (name) {
      case 'SelectStmt':
        f.hasLimit = body.limitCount !== undefined && !isNullConst(body.limitCount);
        if (!f.nested && (body.op === undefined || body.op === 'SETOP_NONE') && body.targetList !== undefined)
          f.results = resultReads(body.targetList, body);
        break;
      case 'MergeStmt':
        f.mergeDeletes = JSON.stringify(body.mergeWhenClauses ?? []).includes('"CMD_DELETE"');
        break;
      case 'CopyStmt':
        f.copy = {
          direction: body.is_from ? 'from' : 'to',
          program: body.is_program === true,
          serverFile: body.is_program !== true && typeof body.filename === 'string',
        };
        break;
      case 'VariableSetStmt':
        if (typeof body.name === 'string') {
          f.settings.push(body.name.toLowerCase());
          if (body.kind === 'VAR_SET_VALUE') {
            const args = body.args as unknown[] | undefined;
            f.settingValues.push({ name: body.name.toLowerCase(), value: args?.length === 1 ? constantText(args[0]) : undefined });
          }
        }
        break;
      case 'AlterSystemStmt':
        if (isObj(body.setstmt) && typeof body.setstmt.name === 'string')
          f.settings.push(body.setstmt.name.toLowerCase());
        break;
      case 'ExplainStmt':
        f.explainAnalyze = defElems(body.options).some(([k, v]) => k === 'analyze' && v !== 'false' && v !== 'off');
        break;
      case 'DeclareCursorStmt':
      case 'ClosePortalStmt':
        f.cursorName = typeof body.portalname === 'string' ? body.portalname : '*';
        break;
      case 'PrepareStmt':
      case 'DeallocateStmt':
        f.prepareName = typeof body.name === 'string' ? body.name : undefined;
        break;
      case 'ExecuteStmt': {
        f.executeName = body.name as string;
        const inner = this.options.prepared?.get(f.executeName);
        if (!inner) f.unresolvedExecute = true;
        // Judged as what it runs; the prepared statement's own nesting is flattened under EXECUTE.
        else for (const s of inner) this.out.push({ ...s, nested: true, parent: index, text: undefined });
        break;
      }
      case 'DropStmt':
        for (const o of (body.objects as unknown[]) ?? []) {
          const parts = isObj(o) && isObj(o.List) ? ((o.List.items as unknown[]) ?? []).map(str) : [];
          if (parts.length > 0 && parts.every((p) => p !== undefined)) {
            const n = parts as string[];
            f.tables.push(n.length > 1 ? { schema: n[n.length - 2], name: n[n.length - 1]! } : { name: n[0]! });
          }
        }
        break;
      case 'DoStmt': {
        const opts = defElems(body.args);
        f.language = (opts.find(([k]) => k === 'language')?.[1] ?? 'plpgsql').toLowerCase();
        const code = opts.find(([k]) => k === 'as')?.[1] ?? '';
        this.body(f, index, code, false);
        break;
      }
      case 'CreateFunctionStmt': {
        const opts = defElems(body.options);
        f.language = (opts.find(([k]) => k === 'language')?.[1] ?? (body.sql_body ? 'sql' : '')).toLowerCase();
        if (!body.sql_body) this.body(f, index, opts.find(([k]) => k === 'as')?.[1] ?? '', true);
        break;
      }
    }
  }

  /** Reads a DO block or a function body and adds the statements it runs as nested statements. */
  private body(f: StatementFacts, index: number, code: string, createFunction: boolean): void {
    const saved = this.cteNames;
    try {
      if (f.language === 'sql') {
        const tree = parseSync(code) as { stmts?: { stmt: Node }[] };
        for (const s of tree.stmts ?? []) this.nested(s.stmt, index);
        return;
      }
      if (f.language !== 'plpgsql') {
        f.opaqueBody = true;
        return;
      }
      let tag = 'portcullis';
      while (code.includes(`$${tag}$`)) tag += '_';
      // A function is read from its own CREATE text (its RETURNS clause shapes what RETURN may
      // say); a DO block, which returns nothing, from a wrapper function returning void.
      const source =
        createFunction && f.parent === undefined
          ? this.topText
          : `CREATE FUNCTION pg_temp.portcullis_body() RETURNS void LANGUAGE plpgsql AS $${tag}$${code}$${tag}$`;
      const tree = parsePlPgSQLSync(source);
      const exprs: { query: string; mode: number }[] = [];
      collectPlpgsql(tree, exprs, f);
      for (const e of exprs) {
        const sql = e.mode === 0 ? e.query : `SELECT ${e.mode >= 3 ? e.query.replace(/^[^:=]*:?=/, '') : e.query}`;
        const inner = parseSync(sql) as { stmts?: { stmt: Node }[] };
        for (const s of inner.stmts ?? []) this.nested(s.stmt, index);
      }
    } catch {
      f.opaqueBody = true;
    } finally {
      this.cteNames = saved;
    }
  }

  private nested(stmt: Node, parent: number): void {
    collectCteNames(stmt, this.cteNames);
    const [name, body] = Object.entries(stmt)[0] ?? [];
    if (name && isObj(body)) this.statement(name, body, parent);
  }

  private walk(value: unknown, f: StatementFacts, index: number): void {
    if (Array.isArray(value)) {
      for (const v of value) this.walk(v, f, index);
      return;
    }
    if (!isObj(value)) return;
    if (typeof value.relname === 'string') {
      const t = tableOf(value);
      if (t.schema || !this.cteNames.has(t.name)) pushUnique(f.tables, t);
      this.relations.get(f)?.add(t.name);
    }
    if (isObj(value.alias) && typeof value.alias.aliasname === 'string') this.relations.get(f)?.add(value.alias.aliasname);
    // `AS t(a, b)` renames columns by position: what it reads is the whole row.
    if ((isObj(value.alias) && Array.isArray(value.alias.colnames)) || Array.isArray(value.aliascolnames)) {
      if (!f.columns.includes('*')) f.columns.push('*');
      f.derived.push({ from: ['*'] });
    }
    if (Array.isArray(value.funcname) && f.node !== 'CreateFunctionStmt') {
      const name = funcName(value.funcname);
      if (name) {
        if (!f.functions.includes(name)) f.functions.push(name);
        const bare = name.slice(name.lastIndexOf('.') + 1);
        const first = (value.args as unknown[] | undefined)?.[0];
        if (bare === 'set_config') {
          const setting = constantText(first)?.toLowerCase() ?? '*';
          if (setting !== '*') f.settings.push(setting);
          f.settingValues.push({ name: setting, value: constantText((value.args as unknown[] | undefined)?.[1]) });
        }
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'targetList') f.derived.push(...targetColumns(child));
      if (key === 'returningClause' && isObj(child)) f.derived.push(...targetColumns(child.exprs, true));
      if (key === 'valuesLists' && Array.isArray(child)) for (const row of child) f.derived.push({ from: columnSources(row) });
      if (key === 'ColumnRef' && isObj(child)) {
        const fields = (child.fields as unknown[]) ?? [];
        const last = fields[fields.length - 1];
        const col = str(last) ?? (isObj(last) && 'A_Star' in last ? '*' : undefined);
        if (col && !f.columns.includes(col)) f.columns.push(col);
        continue;
      }
      if (
        key === 'ResTarget' &&
        isObj(child) &&
        typeof child.name === 'string' &&
        (f.kind === 'INSERT' || f.kind === 'UPDATE')
      ) {
        if (!f.columns.includes(child.name)) f.columns.push(child.name);
      }
      if (isStatementNode(key) && isObj(child)) {
        // A SELECT inside another statement (subquery, CTE, INSERT ... SELECT) is part of it,
        // except under EXPLAIN and PREPARE, which only carry it; anything else is a statement
        // of its own, judged on its own.
        if (key === 'SelectStmt' && child.intoClause === undefined && !CARRIERS.has(f.node)) {
          this.walk(child, f, index);
        } else {
          this.statement(key, child, index);
        }
        continue;
      }
      if (typeof child === 'object') this.walk(child, f, index);
    }
  }
}

const CARRIERS = new Set(['ExplainStmt', 'PrepareStmt']);

function kindOf(name: string, body: Node): StatementKind {
  if (name === 'AlterTableStmt' && JSON.stringify(body.cmds ?? []).includes('"AT_ChangeOwner"')) return 'ALTER_OWNER';
  if ((name === 'GrantStmt' || name === 'GrantRoleStmt') && body.is_grant !== true) return 'REVOKE';
  if (name === 'RenameStmt' && body.renameType === 'OBJECT_ROLE') return 'ALTER_ROLE';
  if (name === 'SelectStmt' && body.intoClause !== undefined) return 'CREATE_TABLE_AS';
  return NODE_KINDS[name] ?? 'OTHER';
}

function tableOf(rv: Node): TableRef {
  return typeof rv.schemaname === 'string'
    ? { schema: rv.schemaname, name: rv.relname as string }
    : { name: rv.relname as string };
}

function pushUnique(list: TableRef[], t: TableRef): void {
  if (!list.some((x) => x.name === t.name && x.schema === t.schema)) list.push(t);
}

/**
 * The text of a string or boolean constant; undefined for numbers and anything computed. Numbers
 * are left out because analyses are shared by texts that differ only in their numbers (numeric
 * shape): `SET x = 1` must not answer for `SET x = 0`.
 */
function constantText(v: unknown): string | undefined {
  const c = isObj(v) && isObj(v.A_Const) ? v.A_Const : undefined;
  if (!c) return undefined;
  if (isObj(c.sval)) return String(c.sval.sval ?? '');
  if (isObj(c.boolval)) return c.boolval.boolval === true ? 'on' : 'off';
  return undefined;
}

function funcName(parts: unknown[]): string | undefined {
  const names = parts.map(str);
  if (names.some((n) => n === undefined)) return undefined;
  return (names as string[]).join('.').toLowerCase();
}

function defElems(list: unknown): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const item of (list as unknown[]) ?? []) {
    if (!isObj(item) || !isObj(item.DefElem)) continue;
    const d = item.DefElem;
    const arg = d.arg;
    let value = str(arg);
    if (value === undefined && isObj(arg) && isObj(arg.List))
      value = ((arg.List.items as unknown[]) ?? []).map(str).join('\n');
    if (value === undefined && isObj(arg) && isObj(arg.Boolean)) value = arg.Boolean.boolval ? 'true' : 'false';
    out.push([String(d.defname), value]);
  }
  return out;
}

function isNullConst(v: unknown): boolean {
  return isObj(v) && isObj(v.A_Const) && v.A_Const.isnull === true;
}

function collectCteNames(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) return v.forEach((x) => collectCteNames(x, into));
  if (!isObj(v)) return;
  if (isObj(v.CommonTableExpr) && typeof v.CommonTableExpr.ctename === 'string') into.add(v.CommonTableExpr.ctename);
  for (const child of Object.values(v)) if (typeof child === 'object') collectCteNames(child, into);
}

/** True when the expression mentions a column of the row (or is WHERE CURRENT OF). */
function refersToRow(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(refersToRow);
  if (!isObj(v)) return false;
  if ('ColumnRef' in v || 'CurrentOfExpr' in v) return true;
  return Object.values(v).some((c) => typeof c === 'object' && refersToRow(c));
}

const isValue = (v: unknown): boolean =>
  isObj(v) &&
  ('A_Const' in v || 'ParamRef' in v || 'A_ArrayExpr' in v || (isObj(v.TypeCast) && isValue(v.TypeCast.arg)));

function columnOf(v: unknown): string | undefined {
  if (!isObj(v) || !isObj(v.ColumnRef)) return undefined;
  const fields = (v.ColumnRef.fields as unknown[]) ?? [];
  return str(fields[fields.length - 1]);
}

function narrowedColumns(v: unknown): Set<string> {
  if (!isObj(v)) return new Set();
  if (isObj(v.BoolExpr)) {
    const parts = ((v.BoolExpr.args as unknown[]) ?? []).map(narrowedColumns);
    if (v.BoolExpr.boolop === 'AND_EXPR') return new Set(parts.flatMap((s) => [...s]));
    if (v.BoolExpr.boolop === 'OR_EXPR') return parts.reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
    return new Set();
  }
  if (isObj(v.A_Expr)) {
    const e = v.A_Expr;
    const op = str((e.name as unknown[])?.[0]);
    if (op !== '=') return new Set();
    const l = columnOf(e.lexpr);
    const r = columnOf(e.rexpr);
    if (e.kind === 'AEXPR_OP' && ((l && isValue(e.rexpr)) || (r && isValue(e.lexpr)))) return new Set([(l ?? r)!]);
    if (e.kind === 'AEXPR_OP_ANY' && l && isValue(e.rexpr)) return new Set([l]);
    if (e.kind === 'AEXPR_IN' && l && isObj(e.rexpr) && isObj(e.rexpr.List)) {
      const items = (e.rexpr.List.items as unknown[]) ?? [];
      if (items.every(isValue)) return new Set([l]);
    }
  }
  return new Set();
}

function collectPlpgsql(v: unknown, into: { query: string; mode: number }[], f: StatementFacts): void {
  if (Array.isArray(v)) return v.forEach((x) => collectPlpgsql(x, into, f));
  if (!isObj(v)) return;
  for (const [key, child] of Object.entries(v)) {
    if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors' || key === 'dynquery') f.dynamicSql = true;
    if (key === 'PLpgSQL_expr' && isObj(child) && typeof child.query === 'string') {
      into.push({ query: child.query, mode: Number(child.parseMode ?? 0) });
      continue;
    }
    if (typeof child === 'object') collectPlpgsql(child, into, f);
  }
}
