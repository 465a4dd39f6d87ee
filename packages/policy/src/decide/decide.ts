import type { EntityType, MaskStyle } from '../entities.js';
import { createScanner, type Scanner } from '../detectors/scanner.js';
import {
  formatPath,
  PolicySchema,
  type Action,
  type ColumnMask,
  type Policy,
  type PolicyInput,
  type Rule,
} from '../policy/schema.js';
import type { SqlAnalysis, StatementFacts, TableRef } from '../sql/analyze.js';
import {
  BODY_LIMITS,
  BodyView,
  compileCondition,
  compileKeywords,
  conditionHolds,
  findKeyword,
  type BodyCondition,
  type Keywords,
} from './body.js';
import { followColumnMasks } from './column-masks.js';
import { checkGuardrails, matchesTable, nameComparer, sameIgnoringCase, type GuardrailSettings } from './guardrails.js';

/** A validated policy with its detectors built; build once per policy version and share. */
export interface CompiledPolicy {
  readonly policy: Policy;
  readonly scanner: Scanner;
  readonly relaxed: ReadonlySet<string>;
  readonly guardrailSettings: GuardrailSettings;
  /** Body conditions and keywords of the rules that have them, parsed once. */
  readonly bodyRules: ReadonlyMap<Rule, BodyRule>;
  /** Some rule masks whole columns. */
  readonly masksColumns: boolean;
}

// Views holding sample values of every column (most common values, histogram bounds): a column
// masked in its table is not masked there.
const STATISTICS = new Set(['pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs']);

interface BodyRule {
  conditions: readonly BodyCondition[];
  keywords?: Keywords;
}

/** Validates (throws with "field: problem" lines), builds detectors and parses body rules. */
export function compilePolicy(input: PolicyInput | Policy): CompiledPolicy {
  const r = PolicySchema.safeParse(input);
  if (!r.success) {
    throw new Error(`invalid policy: ${r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  }
  const policy = r.data;
  const bodyRules = new Map<Rule, BodyRule>();
  for (const rule of policy.rules) {
    const { httpBody, keywords } = rule.match;
    if (!httpBody && !keywords) continue;
    bodyRules.set(rule, {
      conditions: (httpBody ?? []).map(compileCondition),
      keywords: keywords ? compileKeywords(keywords) : undefined,
    });
  }
  return {
    policy,
    scanner: createScanner(policy.detectors),
    relaxed: new Set(policy.guardrails.enabled ? policy.guardrails.relax : []),
    masksColumns: policy.rules.some((r) => (r.mask?.columns?.length ?? 0) > 0),
    guardrailSettings: {
      vectorTables: policy.guardrails.vectorTables,
      vectorIdColumns: policy.guardrails.vectorIdColumns,
    },
    bodyRules,
  };
}

export interface DecisionRequest {
  connection: string;
  identity: { subject: string; groups: readonly string[] };
  /** PostgreSQL: what analyzeSql() found in the statement text. */
  sql?: SqlAnalysis;
  /** HTTP: method and path below the connection prefix ("/v1/chat/completions"), and the body. */
  http?: {
    method: string;
    path: string;
    /** The body parsed, when it is JSON (body rules look at nothing else). */
    body?: unknown;
    /** The body as received; keywords search it when it is not JSON. */
    raw?: Uint8Array;
  };
}

export interface MaskPlan {
  /** Entities to find and mask inside values (text columns, JSON strings, SSE text). */
  entities: EntityType[];
  /** Whole columns to mask whatever they hold. */
  columns: ColumnMask[];
  /**
   * Style for result columns computed in a statement that reads a table with masked columns
   * (see followColumnMasks); undefined when no column mask applies.
   */
  computed?: MaskStyle;
  /** Style for entities and columns without their own. */
  style: MaskStyle;
}

export interface Considered {
  ruleId: string;
  /** Index in sql.statements of the statement judged (absent for HTTP). */
  statement?: number;
  matched: boolean;
  why: string;
}

export interface Decision {
  action: Action;
  /** For block and review: the text shown to the client. */
  reason?: string;
  /** The rule (or "guardrail:<id>") that decided. */
  ruleId?: string;
  /** Every rule that matched some statement, in order. */
  ruleIds: string[];
  policyVersion: number;
  considered: Considered[];
  masks?: MaskPlan;
}

const SEVERITY: Record<Action, number> = { allow: 0, mask: 1, review: 2, block: 3 };
// Statements that only carry another one: judged by what they carry.
const WRAPPERS = new Set(['EXPLAIN', 'PREPARE', 'EXECUTE']);

/**
 * Decides one request. Guardrails first (a parse error always blocks), then for each statement
 * (nested ones included) the first matching rule in order, or the policy default. The strictest
 * outcome over all statements wins: block > review > mask > allow. Pure: `now` is the only clock.
 */
export function decide(request: DecisionRequest, compiled: CompiledPolicy, now: Date): Decision {
  const { policy } = compiled;
  const base = { policyVersion: policy.version, considered: [] as Considered[], ruleIds: [] as string[] };
  const sql = request.sql;
  if (sql?.parseError) {
    return {
      ...base,
      action: 'block',
      ruleId: 'guardrail:parse-error',
      reason: `statement refused: PostgreSQL's parser rejected it (${sql.parseError.message})`,
    };
  }
  if (sql && policy.guardrails.enabled) {
    for (const [i, s] of sql.statements.entries()) {
      const hit = checkGuardrails(s, compiled.guardrailSettings, compiled.relaxed);
      if (hit) {
        const ruleId = `guardrail:${hit.id}`;
        return {
          ...base,
          action: 'block',
          ruleId,
          ruleIds: [ruleId],
          reason: hit.reason,
          considered: [{ ruleId, statement: i, matched: true, why: hit.reason }],
        };
      }
    }
  }

  if (sql && compiled.masksColumns) {
    const i = sql.statements.findIndex((s) => s.tables.some((t) => STATISTICS.has(t.name) && (!t.schema || t.schema === 'pg_catalog')));
    if (i >= 0) {
      const ruleId = 'mask:column-untracked';
      const reason = `${sql.statements[i]!.tables.find((t) => STATISTICS.has(t.name))!.name} holds sample values of columns, masked ones included`;
      return { ...base, action: 'block', ruleId, ruleIds: [ruleId], reason, considered: [{ ruleId, statement: i, matched: true, why: reason }] };
    }
  }

  const units: (StatementFacts | undefined)[] = sql
    ? sql.statements.filter((s, i) => !(WRAPPERS.has(s.kind) && sql.statements.some((n) => n.parent === i)))
    : [undefined];
  if (units.length === 0) units.push(undefined); // empty query string: judged as a request with no statement

  // Built once per request: it keeps what each JSON path selected and the work spent.
  const view =
    request.http && compiled.bodyRules.size > 0 ? new BodyView(request.http.body, request.http.raw) : undefined;
  let outcome: Decided | undefined;
  const masks: MaskPlan = { entities: [...policy.masking.entities], columns: [], style: policy.masking.style };
  for (const unit of units) {
    const index = unit && sql ? sql.statements.indexOf(unit) : undefined;
    let decided: Decided = { action: policy.defaultAction };
    for (const rule of policy.rules) {
      let why = mismatch(rule, request, unit, sql, now);
      let body: BodyJudgement = {};
      const bodyRule = compiled.bodyRules.get(rule);
      if (why === undefined && bodyRule) {
        body = judgeBody(bodyRule, rule.action === 'allow', view);
        why = body.why;
      }
      base.considered.push({
        ruleId: rule.id,
        statement: index,
        matched: why === undefined,
        why: why ?? body.note ?? 'all conditions hold',
      });
      if (why === undefined) {
        decided = { action: rule.action, rule, partial: body.partial };
        if (!base.ruleIds.includes(rule.id)) base.ruleIds.push(rule.id);
        break;
      }
    }
    if (decided.action === 'mask' && decided.rule?.mask) {
      const m = decided.rule.mask;
      for (const e of m.entities ?? []) if (!masks.entities.includes(e)) masks.entities.push(e);
      masks.columns.push(...(m.columns ?? []));
      if (m.style) masks.style = m.style;
    }
    if (!outcome || SEVERITY[decided.action] > SEVERITY[outcome.action]) outcome = decided;
  }
  const { action, rule, partial } = outcome!;
  const hasMasks = masks.entities.length > 0 || masks.columns.length > 0;
  const finalAction: Action = action === 'allow' && hasMasks ? 'mask' : action;
  const refuse = (ruleId: string, reason: string, statement?: number): Decision => ({
    ...base,
    action: 'block',
    ruleId,
    ruleIds: [...base.ruleIds, ruleId],
    reason,
    considered: [...base.considered, { ruleId, statement, matched: true, why: reason }],
  });
  if (finalAction === 'mask' && sql) {
    // COPY ... TO STDOUT streams its rows as CopyData, which masking does not rewrite.
    const copyOut = sql.statements.findIndex((s) => s.copy?.direction === 'to' && !s.copy.program && !s.copy.serverFile);
    if (copyOut >= 0) {
      return refuse('mask:copy-to-stdout', 'COPY ... TO STDOUT cannot be masked; read masked data with SELECT', copyOut);
    }
    const followed = followColumnMasks(masks.columns, sql.statements);
    if (followed.refused !== undefined) return refuse('mask:column-untracked', followed.refused);
    masks.columns = followed.columns;
    masks.computed = followed.computed;
  }
  return {
    ...base,
    action: finalAction,
    ruleId: rule?.id,
    reason: rule
      ? (rule.reason ?? defaultReason(action, rule.id)) + (partial ? ` (${PARTIAL_CHECK})` : '')
      : `no rule matched; the policy default is ${policy.defaultAction}`,
    masks: finalAction === 'mask' ? masks : undefined,
  };
}

interface Decided {
  action: Action;
  rule?: Rule;
  /** The rule matched because the body could not be checked fully (fail closed). */
  partial?: boolean;
}

const PARTIAL_CHECK =
  `the body is too large or too deeply nested to check fully (limits: depth ${BODY_LIMITS.depth}, ` +
  `${BODY_LIMITS.values} values, ${BODY_LIMITS.characters} characters)`;

interface BodyJudgement {
  /** Why the rule does not match; absent when it does. */
  why?: string;
  /** Shown as the rule's explanation when it matches. */
  note?: string;
  partial?: boolean;
}

/**
 * Body conditions and keywords of one rule, all of which must hold. When a limit stopped the
 * check before the answer was sure, the stricter outcome is taken (fail closed): block, review and
 * mask rules match, allow rules do not.
 */
function judgeBody(body: BodyRule, isAllow: boolean, view: BodyView | undefined): BodyJudgement {
  if (!view) return { why: 'not an HTTP request' };
  let unsure = false;
  for (const c of body.conditions) {
    const held = conditionHolds(c, view, isAllow);
    if (held === 'no') return { why: `body: ${c.label} does not hold` };
    if (held === 'unknown') unsure = true;
  }
  let found: string | undefined;
  if (body.keywords) {
    const k = findKeyword(body.keywords, view);
    if (k === 'no') return { why: 'the body contains none of the keywords' };
    if (k === 'unknown') unsure = true;
    else found = k.found;
  }
  if (unsure && isAllow) return { why: `${PARTIAL_CHECK}; an allow rule does not match on a partial check` };
  if (unsure) return { partial: true, note: `${PARTIAL_CHECK}; treated as matching (fail closed)` };
  return { note: found === undefined ? undefined : `all conditions hold (keyword "${found}")` };
}

function defaultReason(action: Action, ruleId: string): string {
  return action === 'block'
    ? `blocked by rule ${ruleId}`
    : action === 'review'
      ? `held for review by rule ${ruleId}`
      : `${action} by rule ${ruleId}`;
}

/**
 * Why `rule` does not match, or undefined when it does. Lists in a rule mean "any of these" for
 * block, review and mask rules, and "only these" for allow rules: an allow rule naming tables
 * allows a statement only if every table it touches is named.
 */
function mismatch(
  rule: Rule,
  req: DecisionRequest,
  s: StatementFacts | undefined,
  sql: SqlAnalysis | undefined,
  now: Date,
): string | undefined {
  const m = rule.match;
  const only = rule.action === 'allow';
  if (m.notBefore && now.getTime() < Date.parse(m.notBefore)) return `not active before ${m.notBefore}`;
  if (m.notAfter && now.getTime() >= Date.parse(m.notAfter)) return `expired at ${m.notAfter}`;
  if (m.connections && !m.connections.some((c) => c === '*' || c === req.connection))
    return `connection ${req.connection} not listed`;
  if (m.subjects && !m.subjects.includes(req.identity.subject)) return 'subject not listed';
  if (m.groups && !req.identity.groups.some((g) => m.groups!.includes(g))) return 'identity is in none of the groups';
  if (m.httpMethods || m.httpPaths) {
    if (!req.http) return 'not an HTTP request';
    if (m.httpMethods && !m.httpMethods.includes(req.http.method.toUpperCase()))
      return `method ${req.http.method} not listed`;
    if (m.httpPaths && !m.httpPaths.some((p) => globToRegExp(p).test(req.http!.path)))
      return `path ${req.http.path} not listed`;
  }
  const needsSql =
    m.statementKinds ||
    m.tables ||
    m.columns ||
    m.functions ||
    m.hasWhere !== undefined ||
    m.hasLimit !== undefined ||
    m.multiStatement !== undefined;
  if (!needsSql) return undefined;
  if (!s || !sql) return 'not a SQL statement';
  if (m.statementKinds && !m.statementKinds.includes(s.kind)) return `statement kind ${s.kind} not listed`;
  if (m.tables && !listed(s.tables, (t, p) => matchesTable(p, t, !only), m.tables, only))
    return only ? 'touches a table not listed' : 'touches none of the tables';
  // Allow rules name exactly; the others in any letter case, as tables.
  const same = nameComparer(!only);
  if (m.columns && !listed(s.columns, (c, p) => same(p, c), m.columns, only))
    return only ? 'uses a column not listed' : 'uses none of the columns';
  // A function listed without its schema matches it called with any.
  if (m.functions && !listed(s.functions, (f, p) => same(p, f) || same(`.${p}`, f.slice(-p.length - 1)), m.functions, only)) {
    return only ? 'calls a function not listed' : 'calls none of the functions';
  }
  if (m.hasWhere !== undefined && s.hasWhere !== m.hasWhere) return m.hasWhere ? 'has no WHERE' : 'has a WHERE';
  if (m.hasLimit !== undefined && s.hasLimit !== m.hasLimit) return m.hasLimit ? 'has no LIMIT' : 'has a LIMIT';
  if (m.multiStatement !== undefined && sql.multiStatement !== m.multiStatement)
    return m.multiStatement ? 'single statement' : 'several statements';
  return undefined;
}

function listed<T>(
  values: readonly T[],
  eq: (v: T, pattern: string) => boolean,
  patterns: readonly string[],
  only: boolean,
): boolean {
  return only
    ? values.every((v) => patterns.some((p) => eq(v, p)))
    : values.some((v) => patterns.some((p) => eq(v, p)));
}

const globCache = new Map<string, RegExp>();
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*/g, '\u0000')
      .replace(/\*/g, '[^/]*')
      .replace(/\u0000/g, '.*');
    re = new RegExp(`^${body}$`);
    globCache.set(glob, re);
  }
  return re;
}

/** Which style a whole column gets under a mask plan, if any. */
export function columnMaskStyle(
  plan: MaskPlan | undefined,
  table: TableRef | undefined,
  column: string,
): MaskStyle | undefined {
  const hit = plan?.columns.find(
    (c) => sameIgnoringCase(c.column, column) && (!c.table || (table !== undefined && matchesTable(c.table, table, true))),
  );
  return hit?.style;
}
