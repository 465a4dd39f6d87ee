import { PolicySchema } from '@portcullis/policy/schema';
import { getIn, type DraftPath } from './policy-draft.js';

/** A problem in a draft policy: from the shared zod schema here, or from the control plane's 400. */
export interface PolicyIssue {
  path: DraftPath;
  message: string;
}

/** An issue placed on the editor field that shows it. */
export interface FieldProblem {
  /** The field's path: what the form renders, and `fieldKey` / `fieldDomId` of it. */
  field: DraftPath;
  /** "Rule 3 (mask-pii) › HTTP methods": where it is, for the summary. */
  where: string;
  /** The message, naming the list item at fault ("\"get\": must be …"). */
  message: string;
}

type Label = string | ((index: number, value: unknown) => string);

interface FieldSpec {
  label: Label;
  /** Holds a list edited in one control: an issue on an item stays on the field, naming the item. */
  list?: true;
  /** Named in the "where" of the fields inside it, as in "Rule 3 (mask-pii) › HTTP methods". */
  section?: true;
}

const named = (noun: string, key: string) => (i: number, value: unknown) => {
  const name = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return `${noun} ${i + 1}${typeof name === 'string' && name ? ` (${name})` : ''}`;
};

const list = (label: string): FieldSpec => ({ label, list: true });
const section = (label: Label): FieldSpec => ({ label, section: true });

/**
 * The editor's fields and groups by path pattern ("#" is any index), with the labels the form
 * shows. An issue goes to the deepest pattern that holds its path, so a group catches what has no
 * field of its own (an unknown key; detectors.medicalRecord, which only the JSON view edits).
 */
const FIELDS: Record<string, FieldSpec> = {
  defaultAction: { label: 'Default action' },
  rules: { label: 'Rules' },
  'rules.#': section(named('Rule', 'id')),
  'rules.#.id': { label: 'Id' },
  'rules.#.description': { label: 'Description' },
  'rules.#.action': { label: 'Action' },
  'rules.#.reason': { label: 'Reason' },
  'rules.#.match': { label: 'Match' },
  'rules.#.match.connections': list('Connections'),
  'rules.#.match.groups': list('Groups'),
  'rules.#.match.subjects': list('Subjects'),
  'rules.#.match.statementKinds': list('Statement kinds'),
  'rules.#.match.tables': list('Tables'),
  'rules.#.match.columns': list('Columns'),
  'rules.#.match.functions': list('Functions'),
  'rules.#.match.hasWhere': { label: 'Has WHERE' },
  'rules.#.match.hasLimit': { label: 'Has LIMIT' },
  'rules.#.match.multiStatement': { label: 'Several statements' },
  'rules.#.match.httpMethods': list('HTTP methods'),
  'rules.#.match.httpPaths': list('HTTP paths'),
  'rules.#.match.httpBody': { label: 'Body conditions' },
  'rules.#.match.httpBody.#': section((i) => `Body condition ${i + 1}`),
  'rules.#.match.httpBody.#.path': { label: 'JSON path' },
  'rules.#.match.httpBody.#.equals': { label: 'Equals' },
  'rules.#.match.httpBody.#.in': list('One of'),
  'rules.#.match.httpBody.#.matches': { label: 'Matches' },
  'rules.#.match.httpBody.#.flags': { label: 'Flags' },
  'rules.#.match.httpBody.#.exists': { label: 'Exists' },
  'rules.#.match.httpBody.#.gt': { label: 'Greater than' },
  'rules.#.match.httpBody.#.lt': { label: 'Less than' },
  'rules.#.match.keywords': list('Keywords'),
  'rules.#.match.notBefore': { label: 'Not before' },
  'rules.#.match.notAfter': { label: 'Not after' },
  'rules.#.mask': { label: 'Masking' },
  'rules.#.mask.entities': list('Entities to mask'),
  'rules.#.mask.style': { label: 'Mask style' },
  'rules.#.mask.columns': { label: 'Column masks' },
  'rules.#.mask.columns.#': section((i) => `Column mask ${i + 1}`),
  'rules.#.mask.columns.#.table': { label: 'Table' },
  'rules.#.mask.columns.#.column': { label: 'Column' },
  'rules.#.mask.columns.#.style': { label: 'Style' },
  guardrails: section('Guardrails'),
  'guardrails.enabled': { label: 'Guardrails on' },
  'guardrails.relax': list('Relaxed guardrails'),
  'guardrails.vectorTables': list('Vector tables'),
  'guardrails.vectorIdColumns': list('Vector id columns'),
  masking: section('Masking defaults'),
  'masking.style': { label: 'Default mask style' },
  'masking.entities': list('Always masked'),
  budgets: section('Budgets'),
  'budgets.statement': section('Per statement'),
  'budgets.statement.maxRows': { label: 'Max rows' },
  'budgets.statement.maxBytes': { label: 'Max bytes' },
  'budgets.perIdentity': section('Per identity'),
  'budgets.perIdentity.rowsPerHour': { label: 'Rows per hour' },
  'budgets.perIdentity.bytesPerHour': { label: 'Bytes per hour' },
  detectors: section('Detectors'),
  'detectors.region': { label: 'Phone region' },
  'detectors.minConfidence': { label: 'Minimum confidence' },
  'detectors.custom': { label: 'Custom detectors' },
  'detectors.custom.#': section(named('Detector', 'name')),
  'detectors.custom.#.name': { label: 'Entity name' },
  'detectors.custom.#.pattern': { label: 'Pattern' },
  'detectors.custom.#.flags': { label: 'Flags' },
  'detectors.custom.#.validator': { label: 'Validator' },
  'detectors.custom.#.contextWords': list('Context words'),
  'detectors.custom.#.requireContext': { label: 'Require context' },
};

const patternOf = (path: DraftPath) => path.map((p) => (typeof p === 'number' ? '#' : p)).join('.');

/** Stable key of a field, for grouping problems: "rules.2.match.httpMethods". */
export const fieldKey = (path: DraftPath): string => path.join('.');

/** The DOM id of a field's control; the whole policy (no field) is the JSON view. */
export const fieldDomId = (path: DraftPath): string => (path.length ? `pf-${path.join('-')}` : 'policy-json');

/** The label the form shows for a field ("HTTP methods"), from the same table the summary uses. */
export function fieldLabel(path: DraftPath, draft?: unknown): string {
  const spec = FIELDS[patternOf(path)];
  if (!spec) return fieldKey(path);
  const last = path.at(-1);
  return typeof spec.label === 'function'
    ? spec.label(typeof last === 'number' ? last : 0, getIn(draft, path))
    : spec.label;
}

/**
 * The field an issue belongs to: ['rules', 2, 'match', 'httpMethods', 0] → the HTTP methods field
 * of rule 3, item 0. An issue no field holds belongs to the whole policy ([]).
 */
export function fieldOf(path: DraftPath): { field: DraftPath; item: number | undefined } {
  for (let n = path.length; n > 0; n--) {
    const spec = FIELDS[patternOf(path.slice(0, n))];
    if (!spec) continue;
    const next = path[n];
    return { field: path.slice(0, n), item: spec.list && typeof next === 'number' ? next : undefined };
  }
  return { field: [], item: undefined };
}

/** "Rule 3 (mask-pii) › HTTP methods": the sections a field is in, then the field. */
export function describeField(field: DraftPath, draft: unknown): string {
  const crumbs: string[] = [];
  for (let n = 1; n <= field.length; n++) {
    const prefix = field.slice(0, n);
    const spec = FIELDS[patternOf(prefix)];
    if (spec && (spec.section || n === field.length)) crumbs.push(fieldLabel(prefix, draft));
  }
  return crumbs.join(' › ') || 'Policy';
}

/** Puts each issue on its field, naming the list item it is about. */
export function placeIssues(issues: readonly PolicyIssue[], draft: unknown): FieldProblem[] {
  return issues.map(({ path, message }) => {
    const { field, item } = fieldOf(path);
    let text = message;
    if (item !== undefined) {
      const value = getIn(draft, [...field, item]);
      text = `${typeof value === 'string' ? JSON.stringify(value) : `item ${item + 1}`}: ${message}`;
    }
    return { field, where: describeField(field, draft), message: text };
  });
}

/** Messages by `fieldKey`, for the fields to show next to themselves. */
export function messagesByField(problems: readonly FieldProblem[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of problems) {
    const key = fieldKey(p.field);
    out.set(key, [...(out.get(key) ?? []), p.message]);
  }
  return out;
}

/**
 * Checks a draft as the control plane does on save and preview: with the engine's schema, the
 * document's own `version` ignored (the server numbers versions).
 */
export function checkDraft(draft: Record<string, unknown>): PolicyIssue[] {
  const { version: _ignored, ...body } = draft;
  const result = PolicySchema.safeParse({ ...body, version: 0 });
  if (result.success) return [];
  return result.error.issues.map((i) => ({
    path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
    message: i.message,
  }));
}

/**
 * "rules[2].match.httpMethods[0]" (the control plane's formatPath; "(policy)" for the whole
 * document) → ['rules', 2, 'match', 'httpMethods', 0]. Dotted indices ("rules.2") read the same.
 */
export function parseIssuePath(path: string): (string | number)[] {
  if (path === '(policy)') return [];
  const out: (string | number)[] = [];
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (index !== undefined) out.push(Number(index));
    else if (key !== undefined) out.push(/^\d+$/.test(key) ? Number(key) : key);
  }
  return out;
}

/** The control plane's `{ path, message }` issues as draft issues. */
export function serverIssues(issues: readonly { path: string; message: string }[]): PolicyIssue[] {
  return issues.map((i) => ({ path: parseIssuePath(i.path), message: i.message }));
}
