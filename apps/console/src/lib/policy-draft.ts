/**
 * Edits of a draft policy document, as the structured editor makes them. The draft stays a plain
 * JSON object (what the JSON tab shows and the control plane stores): fields are set where they
 * are, new keys go last, so the JSON view and the history diff show only what changed.
 */

export type PolicyDraft = Record<string, unknown>;
/** Keys and indices down to a value, the way zod names an issue's place. */
export type DraftPath = readonly (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function getIn(draft: unknown, path: DraftPath): unknown {
  let node = draft;
  for (const key of path) {
    if (typeof key === 'number' ? !Array.isArray(node) : !isObject(node)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/**
 * A copy of `draft` with `value` at `path`. `undefined` removes the key, and an object that
 * removal leaves empty goes too (an empty `match` or `budgets` says nothing), except `mask`: its
 * presence is what a mask rule needs.
 */
export function setIn(draft: PolicyDraft, path: DraftPath, value: unknown): PolicyDraft {
  return put(draft, path, value) as PolicyDraft;
}

function put(node: unknown, path: DraftPath, value: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  if (typeof key === 'number') {
    const list = Array.isArray(node) ? [...node] : [];
    list[key] = put(list[key], rest, value);
    return list;
  }
  const object = isObject(node) ? { ...node } : {};
  const next = put(object[key], rest, value);
  const emptied = rest.length > 0 && key !== 'mask' && isObject(next) && Object.keys(next).length === 0;
  if (next === undefined || emptied) delete object[key];
  else object[key] = next;
  return object;
}

const listAt = (draft: PolicyDraft, path: DraftPath): unknown[] => {
  const list = getIn(draft, path);
  return Array.isArray(list) ? list : [];
};

export function appendItem(draft: PolicyDraft, listPath: DraftPath, item: unknown): PolicyDraft {
  return setIn(draft, listPath, [...listAt(draft, listPath), item]);
}

/** Removes one item; a list left empty goes (lists the schema has are optional or default to empty). */
export function removeItem(draft: PolicyDraft, listPath: DraftPath, index: number): PolicyDraft {
  const rest = listAt(draft, listPath).filter((_, i) => i !== index);
  return setIn(draft, listPath, rest.length > 0 ? rest : undefined);
}

export function moveItem(draft: PolicyDraft, listPath: DraftPath, from: number, to: number): PolicyDraft {
  const list = [...listAt(draft, listPath)];
  if (to < 0 || to >= list.length || from === to) return draft;
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
  return setIn(draft, listPath, list);
}

/** A rule to start from: allows, under an id no other rule has. */
export function newRule(draft: PolicyDraft): { id: string; action: string } {
  const taken = new Set(listAt(draft, ['rules']).map((r) => (isObject(r) ? r.id : undefined)));
  let n = taken.size + 1;
  while (taken.has(`rule-${n}`)) n++;
  return { id: `rule-${n}`, action: 'allow' };
}

/**
 * Sets a rule's action. The schema wants `mask` on mask rules and only there, so switching to
 * mask adds an empty one (nothing beyond the policy-wide entities is masked until some are
 * named) and switching away drops it.
 */
export function setRuleAction(draft: PolicyDraft, index: number, action: string): PolicyDraft {
  const next = setIn(draft, ['rules', index, 'action'], action);
  const mask = getIn(next, ['rules', index, 'mask']);
  if (action === 'mask' && mask === undefined) return setIn(next, ['rules', index, 'mask'], {});
  if (action !== 'mask' && mask !== undefined) return setIn(next, ['rules', index, 'mask'], undefined);
  return next;
}

/** Equal as JSON documents, whatever the order of keys (PostgreSQL's jsonb keeps its own order). */
export function sameDocument(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameDocument(v, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameDocument(a[k], b[k]));
}

/**
 * "GET\nPOST" → ["GET", "POST"]: a list field's text, one item a line, so an item may hold a comma
 * ("drop table, truncate" is one keyword). Items are trimmed and blank lines dropped; empty means
 * absent (the schema wants such lists non-empty or not there at all).
 */
export function parseList(text: string): string[] | undefined {
  const items = text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * A number field's text: a number when it reads as one, empty as absent, anything else kept as
 * typed, so the schema's own message says what is wrong with it.
 */
export function parseNumber(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  // Decimal only: Number() would also read "0x10", "1e3" or "Infinity", which nobody means here.
  return DECIMAL.test(trimmed) ? Number(trimmed) : trimmed;
}

/**
 * A JSON scalar as typed: `5`, `true`, `null` and `"quoted"` read as JSON, anything else as the
 * text itself (so `gpt-4` needs no quotes).
 */
export function parseScalar(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  } catch {
    // Not JSON: the text is the string.
  }
  return trimmed;
}

/** Scalars, one a line. */
export function parseScalarList(text: string): unknown[] | undefined {
  return parseList(text)?.map(parseScalar);
}

/** How parseScalar would read a value back: strings bare unless they would read as something else. */
export function formatScalar(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && parseScalar(value) === value) return value;
  return JSON.stringify(value);
}

/** A list field's text: its items, each as `formatItem` writes it, one a line. */
const listText = (value: unknown, formatItem: (item: unknown) => string): string =>
  Array.isArray(value) ? value.map(formatItem).join('\n') : formatItem(value);

export function formatScalarList(value: unknown): string {
  return listText(value, formatScalar);
}

export function formatValue(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The inverse of parseList: strings as they are, anything else as JSON. */
export function formatList(value: unknown): string {
  return listText(value, formatValue);
}
