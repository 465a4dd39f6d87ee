/**
 * Body rules of HTTP requests: JSON-path conditions and keywords, compiled once per policy and
 * judged against one request body with bounded work.
 *
 * The JSON paths are a small subset of JSONPath (RFC 9535), implemented here rather than taken
 * from a library: the common libraries either evaluate filter expressions with `eval`-like
 * machinery (jsonpath-plus had remote code execution advisories, CVE-2024-21534 and
 * CVE-2025-1302) or, when safe (RFC 9535 implementations), walk the whole document with no bound
 * we could set per request. A guardrail has to stop after a known amount of work and say so.
 */

/** Per request, whatever the rules: how deep and how much of the body is looked at. */
export const BODY_LIMITS = {
  /** Values nested deeper than this are not visited. */
  depth: 64,
  /** JSON values visited in all, by every path and the keyword scan together. */
  values: 1_000_000,
  /** Characters of string values (or of a non-JSON body) searched for keywords. */
  characters: 4 * 1024 * 1024,
} as const;

const MAX_STEPS = 32;
const SUPPORTED = `supported: $, .name, ['name'], [n], [*], .*, ..name, ..*`;

type Selector = { name: string } | { index: number } | { wildcard: true };
interface Step {
  /** `..`: the selector applies to the value and everything below it. */
  descend: boolean;
  selector: Selector;
}

export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

export type JsonPathResult = { ok: true; path: JsonPath } | { ok: false; error: string };

const NAME_FIRST = /[A-Za-z_\u0080-\uffff]/;
const NAME_CHAR = /[A-Za-z0-9_\u0080-\uffff]/;

/** Parses a JSON path of the supported subset; errors name the character at fault. */
export function parseJsonPath(source: string): JsonPathResult {
  const fail = (at: number, problem: string): JsonPathResult => ({
    ok: false,
    error: `${problem} at character ${at + 1} of "${source}" (${SUPPORTED})`,
  });
  if (source[0] !== '$') return { ok: false, error: `must start with "$" (${SUPPORTED})` };
  const steps: Step[] = [];
  let i = 1;
  while (i < source.length) {
    let descend = false;
    let selector: Selector;
    if (source[i] === '.') {
      descend = source[i + 1] === '.';
      i += descend ? 2 : 1;
      if (source[i] === '*') {
        selector = { wildcard: true };
        i++;
      } else if (descend && source[i] === '[') {
        const b = bracket(source, i);
        if ('error' in b) return fail(b.at, b.error);
        selector = b.selector;
        i = b.next;
      } else {
        const start = i;
        if (i < source.length && NAME_FIRST.test(source[i]!))
          while (i < source.length && NAME_CHAR.test(source[i]!)) i++;
        if (i === start)
          return fail(start, `expected a name or "*" after "${descend ? '..' : '.'}" (other names go in ['...'])`);
        selector = { name: source.slice(start, i) };
      }
    } else if (source[i] === '[') {
      const b = bracket(source, i);
      if ('error' in b) return fail(b.at, b.error);
      selector = b.selector;
      i = b.next;
    } else {
      return fail(i, `unexpected "${source[i]}"`);
    }
    steps.push({ descend, selector });
    if (steps.length > MAX_STEPS) return { ok: false, error: `more than ${MAX_STEPS} steps in "${source}"` };
  }
  return { ok: true, path: { source, steps } };
}

function bracket(s: string, open: number): { selector: Selector; next: number } | { error: string; at: number } {
  let i = open + 1;
  const c = s[i];
  let selector: Selector;
  if (c === "'" || c === '"') {
    let name = '';
    i++;
    for (;;) {
      if (i >= s.length) return { error: 'unterminated quoted name', at: open };
      const ch = s[i]!;
      if (ch === c) break;
      if (ch === '\\') {
        const escaped = s[i + 1];
        if (escaped !== c && escaped !== '\\') return { error: `only \\${c} and \\\\ may be escaped`, at: i };
        name += escaped;
        i += 2;
        continue;
      }
      name += ch;
      i++;
    }
    i++;
    selector = { name };
  } else if (c === '*') {
    selector = { wildcard: true };
    i++;
  } else if (c !== undefined && /[-0-9]/.test(c)) {
    const m = /^-?(?:0|[1-9][0-9]{0,8})/.exec(s.slice(i));
    if (!m || m[0] === '-') return { error: 'expected an array index', at: i };
    selector = { index: Number(m[0]) };
    i += m[0].length;
  } else if (c === '?') {
    return { error: 'filters ([?...]) are not supported', at: i };
  } else {
    return { error: `expected 'name', an index or "*" inside [ ]`, at: i };
  }
  if (s[i] === ':') return { error: 'slices ([a:b]) are not supported', at: i };
  if (s[i] === ',') return { error: 'unions ([a,b]) are not supported', at: i };
  if (s[i] !== ']') return { error: 'expected "]"', at: i };
  return { selector, next: i + 1 };
}

/** What a path selected; `complete` is false when a limit stopped the walk early. */
export interface Selection {
  values: unknown[];
  complete: boolean;
}

/** One condition of `match.httpBody`, compiled. */
export interface BodyCondition {
  path: JsonPath;
  /** Set for `exists`; then no value test. */
  exists?: boolean;
  /** Every value test of the condition, all of which must hold for one value. */
  test: (value: unknown) => boolean;
  /** How the condition reads in explanations: `$.model {"in":["gpt-4"]}`. */
  label: string;
}

export type Tristate = 'yes' | 'no' | 'unknown';

/**
 * One request body as the body rules see it: built per request, it remembers what each path
 * selected and the keyword text, and spends one budget of BODY_LIMITS across all rules.
 */
export class BodyView {
  private budget: number = BODY_LIMITS.values;
  private readonly selections = new Map<string, Selection>();
  private scanned?: { text: string; complete: boolean };
  private compared?: { text: string; complete: boolean };

  /**
   * @param json the parsed body when it is JSON, else undefined
   * @param raw the body as received; keywords read it when there is no JSON
   */
  constructor(
    private readonly json: unknown,
    private readonly raw: Uint8Array | undefined,
  ) {}

  select(path: JsonPath): Selection {
    let selection = this.selections.get(path.source);
    if (!selection) {
      selection = this.json === undefined ? { values: [], complete: true } : this.walk(path);
      this.selections.set(path.source, selection);
    }
    return selection;
  }

  /** `text()` as keywords compare it (see `comparable`), worked out once for all keyword rules. */
  keywordText(): { text: string; complete: boolean } {
    if (!this.compared) {
      const { text, complete } = this.text();
      this.compared = { text: comparable(text), complete };
    }
    return this.compared;
  }

  /** String values of the JSON body joined by NUL (so no keyword spans two), or the raw text. */
  text(): { text: string; complete: boolean } {
    if (this.scanned) return this.scanned;
    if (this.json === undefined) {
      const raw = this.raw ?? new Uint8Array();
      const complete = raw.length <= BODY_LIMITS.characters;
      // At most one character per byte: the cut keeps the character limit.
      const text = new TextDecoder().decode(complete ? raw : raw.subarray(0, BODY_LIMITS.characters));
      return (this.scanned = { text, complete });
    }
    const parts: string[] = [];
    let characters = 0;
    let complete = true;
    const stack: Array<[unknown, number]> = [[this.json, 0]];
    while (stack.length > 0 && this.budget > 0) {
      const [value, depth] = stack.pop()!;
      if (typeof value === 'string') {
        if (characters + value.length > BODY_LIMITS.characters) {
          parts.push(value.slice(0, BODY_LIMITS.characters - characters));
          complete = false;
          break;
        }
        parts.push(value);
        characters += value.length;
      } else if (value !== null && typeof value === 'object') {
        const children = Array.isArray(value) ? value : Object.values(value);
        for (let k = children.length - 1; k >= 0; k--) {
          const child = children[k];
          if (this.spend(depth + 1)) {
            if (typeof child === 'string' || (child !== null && typeof child === 'object'))
              stack.push([child, depth + 1]);
          } else {
            complete = false;
            if (this.budget <= 0) break;
          }
        }
      }
    }
    if (stack.length > 0) complete = false;
    return (this.scanned = { text: parts.join('\u0000'), complete });
  }

  /** Pays for visiting one value at `depth`; false when it is too deep or the budget is spent. */
  private spend(depth: number): boolean {
    if (depth > BODY_LIMITS.depth || this.budget <= 0) return false;
    this.budget--;
    return true;
  }

  private walk(path: JsonPath): Selection {
    let current: Array<[unknown, number]> = [[this.json, 0]];
    let complete = true;
    /** Adds one value to `out`; false when a limit refused it. */
    const visit = (child: unknown, depth: number, out: Array<[unknown, number]>): boolean => {
      const paid = this.spend(depth);
      if (paid) out.push([child, depth]);
      else complete = false;
      return paid;
    };
    /** Adds what `selector` picks from `value` to `out`. */
    const pick = (value: unknown, depth: number, selector: Selector, out: Array<[unknown, number]>) => {
      if (value === null || typeof value !== 'object') return;
      if ('wildcard' in selector) {
        const children = Array.isArray(value) ? value : Object.values(value);
        for (let k = 0; k < children.length && visit(children[k], depth + 1, out); k++);
      } else if ('index' in selector) {
        if (!Array.isArray(value)) return;
        const i = selector.index < 0 ? value.length + selector.index : selector.index;
        if (i >= 0 && i < value.length) visit(value[i], depth + 1, out);
      } else if (!Array.isArray(value) && Object.hasOwn(value, selector.name)) {
        visit((value as Record<string, unknown>)[selector.name], depth + 1, out);
      }
    };
    // Once the budget is spent every visit fails at once and the loops stop early: the work per
    // request stays bounded whatever the number of rules.
    for (const step of path.steps) {
      const next: Array<[unknown, number]> = [];
      for (const [value, depth] of current) {
        if (!step.descend) {
          pick(value, depth, step.selector, next);
          continue;
        }
        // Descendant-or-self, depth first; every value below is paid for, leaves included.
        const stack: Array<[unknown, number]> = [[value, depth]];
        while (stack.length > 0 && this.budget > 0) {
          const [node, d] = stack.pop()!;
          pick(node, d, step.selector, next);
          if (node === null || typeof node !== 'object') continue;
          const children = Array.isArray(node) ? node : Object.values(node);
          for (let k = children.length - 1; k >= 0; k--) {
            const child = children[k];
            if (this.spend(d + 1)) {
              if (child !== null && typeof child === 'object') stack.push([child, d + 1]); // leaves have nothing below
            } else {
              complete = false;
              if (this.budget <= 0) break;
            }
          }
        }
        if (stack.length > 0) complete = false;
      }
      current = next;
    }
    return { values: current.map(([v]) => v), complete };
  }
}

type Scalar = string | number | boolean | null;

/** A condition as written in `match.httpBody` (validated by the policy schema). */
export interface BodyConditionSpec {
  path: string;
  equals?: Scalar;
  in?: readonly Scalar[];
  matches?: string;
  flags?: string;
  exists?: boolean;
  gt?: number;
  lt?: number;
}

/** Builds a condition once per policy version; the spec must have passed the schema. */
export function compileCondition(spec: BodyConditionSpec): BodyCondition {
  const parsed = parseJsonPath(spec.path);
  if (!parsed.ok) throw new Error(parsed.error);
  const tests: Array<(v: unknown) => boolean> = [];
  if (spec.equals !== undefined) tests.push((v) => v === spec.equals);
  if (spec.in !== undefined) {
    const set = new Set<unknown>(spec.in);
    tests.push((v) => set.has(v));
  }
  if (spec.matches !== undefined) {
    const re = new RegExp(spec.matches, spec.flags);
    tests.push((v) => typeof v === 'string' && re.test(v));
  }
  if (spec.gt !== undefined) tests.push((v) => typeof v === 'number' && v > spec.gt!);
  if (spec.lt !== undefined) tests.push((v) => typeof v === 'number' && v < spec.lt!);
  const { path: _path, ...ops } = spec;
  const label = `${spec.path} ${JSON.stringify(ops)}`;
  return {
    path: parsed.path,
    exists: spec.exists,
    test: (v) => tests.every((t) => t(v)),
    label: label.length > 160 ? `${label.slice(0, 157)}...` : label,
  };
}

/**
 * Whether a condition holds. Block, review and mask rules ask whether any selected value passes
 * the test; allow rules (`every`) whether every one does (and there is at least one), as lists in
 * allow rules mean "only these". `unknown`: a limit stopped the walk before the answer was sure.
 */
export function conditionHolds(c: BodyCondition, view: BodyView, every: boolean): Tristate {
  const { values, complete } = view.select(c.path);
  if (c.exists !== undefined) {
    if (values.length > 0) return c.exists ? 'yes' : 'no';
    return complete ? (c.exists ? 'no' : 'yes') : 'unknown';
  }
  if (every) {
    if (values.some((v) => !c.test(v))) return 'no';
    if (!complete) return 'unknown';
    return values.length > 0 ? 'yes' : 'no';
  }
  if (values.some(c.test)) return 'yes';
  return complete ? 'no' : 'unknown';
}

/** Keywords of a rule as one search: case-insensitive, whitespace-tolerant, word-bounded. */
export interface Keywords {
  list: readonly string[];
  regex: RegExp;
}

// A letter, digit or "_" in any script (\b only knows ASCII).
const WORD = String.raw`[\p{L}\p{N}_]`;

/**
 * One regular expression for all keywords of a rule, each in its own group so the one found can
 * be named. A keyword edge that is a word character must not touch another word character:
 * "drop table" is found in "(DROP  TABLE users)" but not in "backdrop tables". Whitespace inside
 * a keyword matches any run of whitespace. The word boundaries sit outside the alternation, which
 * keeps a search over hundreds of keywords linear in practice.
 */
export function compileKeywords(list: readonly string[]): Keywords {
  const alternatives = list.map((k) => '(' + escapeKeyword(comparable(k.trim())) + ')');
  const regex = new RegExp(
    `(?:(?<!${WORD})|(?!${WORD}))(?:${alternatives.join('|')})(?:(?!${WORD})|(?<!${WORD}))`,
    'iu',
  );
  return { list, regex };
}

/**
 * Text as keywords are compared: compatibility forms folded (full-width "ＤＲＯＰ", ligatures) and
 * invisible format characters removed (zero-width spaces and joiners, soft hyphens), which a
 * model reads straight through but which would otherwise split a keyword apart.
 */
function comparable(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '');
}

function escapeKeyword(k: string): string {
  return k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
}

/** The keyword found in the body (as written in the policy), 'no', or 'unknown' (limit hit). */
export function findKeyword(k: Keywords, view: BodyView): { found: string } | 'no' | 'unknown' {
  const { text, complete } = view.keywordText();
  const m = k.regex.exec(text);
  if (m) return { found: k.list[m.slice(1).findIndex((g) => g !== undefined)]! };
  return complete ? 'no' : 'unknown';
}
