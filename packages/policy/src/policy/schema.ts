import { z } from 'zod';
import { BUILTIN_ENTITIES, MASK_STYLES } from '../entities.js';
import { parseJsonPath } from '../decide/body.js';
import { GUARDRAIL_IDS } from '../decide/guardrails.js';
import { STATEMENT_KINDS } from '../sql/kinds.js';

export const ACTIONS = ['allow', 'mask', 'block', 'review'] as const;

const EntityName = z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/, 'must be UPPER_SNAKE_CASE');
const MaskStyleSchema = z.enum(MASK_STYLES);
const Names = z.array(z.string().min(1).max(200)).min(1).max(500);

/** A group holding a '|' outside character classes, repeated without bound. */
const REPEATED_ALTERNATION = /\((?:[^()\\[|]|\\.|\[(?:[^\]\\]|\\.)*\])*\|(?:[^()\\[]|\\.|\[(?:[^\]\\]|\\.)*\])*\)(?:[+*]|\{\d+,\})/;

/**
 * A regular expression a custom detector may use: it must compile, and must not repeat a group
 * that holds a quantifier ("(a+)+", "(\w*)*") or an alternation ("(a|a)+", "(\d|\w)*"), the
 * usual shapes of catastrophic backtracking. Detectors run on the data path: one bad pattern
 * would stall an agent on a crafted value.
 */
function regexProblem(pattern: string, flags = ''): string | undefined {
  try {
    new RegExp(pattern, flags);
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
  if (/\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)[+*{]/.test(pattern)) {
    return 'nested repetition (like "(a+)+") can take exponential time; rewrite without it';
  }
  if (REPEATED_ALTERNATION.test(pattern)) {
    return 'a repeated alternation (like "(a|b)+") can take exponential time; use a character class ([ab]+) or rewrite without it';
  }
  return undefined;
}

export const CustomDetectorSchema = z
  .strictObject({
    name: EntityName,
    pattern: z.string().min(1).max(1000),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only the flags i, m, s and u are allowed')
      .optional(),
    validator: z.enum(['luhn', 'iban', 'ssn']).optional(),
    contextWords: z.array(z.string().min(1).max(100)).max(100).optional(),
    requireContext: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    const problem = regexProblem(d.pattern, d.flags);
    if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
    if (BUILTIN_ENTITIES.includes(d.name as never)) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: `"${d.name}" is a built-in entity; pick another name` });
    }
  });

export const DetectorsSchema = z.strictObject({
  /** ISO 3166 region used to read national phone numbers. */
  region: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter region code like "US"')
    .default('US'),
  minConfidence: z.number().min(0).max(1).default(0.5),
  medicalRecord: z
    .strictObject({
      pattern: z.string().min(1).max(1000).optional(),
      contextWords: z.array(z.string().min(1).max(100)).max(100).optional(),
    })
    .superRefine((m, ctx) => {
      const problem = m.pattern === undefined ? undefined : regexProblem(m.pattern);
      if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
    })
    .optional(),
  custom: z.array(CustomDetectorSchema).max(100).default([]),
});

export const ColumnMaskSchema = z.strictObject({
  table: z.string().min(1).optional(),
  column: z.string().min(1),
  style: MaskStyleSchema,
});

const Scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const VALUE_TESTS = ['equals', 'in', 'matches', 'gt', 'lt'] as const;

/**
 * One condition on the JSON body of an HTTP request: the values `path` selects must pass every
 * test given (`exists` alone asks whether the path selects anything).
 */
export const BodyConditionSchema = z
  .strictObject({
    /** JSONPath subset: $, .name, ['name'], [n] (negative from the end), [*], .*, ..name, ..* */
    path: z.string().min(1).max(500),
    equals: Scalar.optional(),
    in: z.array(Scalar).min(1).max(1000).optional(),
    /** A regular expression searched in string values. */
    matches: z.string().min(1).max(1000).optional(),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only the flags i, m, s and u are allowed')
      .optional(),
    exists: z.boolean().optional(),
    /** Numbers only: a string "5" is not greater than 4. */
    gt: z.number().optional(),
    lt: z.number().optional(),
  })
  .superRefine((c, ctx) => {
    const path = parseJsonPath(c.path);
    if (!path.ok) ctx.addIssue({ code: 'custom', path: ['path'], message: `invalid JSON path: ${path.error}` });
    if (c.matches !== undefined) {
      const problem = regexProblem(c.matches, c.flags);
      if (problem) ctx.addIssue({ code: 'custom', path: ['matches'], message: problem });
    } else if (c.flags !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['flags'], message: '"flags" goes with "matches"' });
    }
    const tests = VALUE_TESTS.filter((k) => c[k] !== undefined);
    if (c.exists !== undefined && tests.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['exists'],
        message: `"exists" stands alone (also given: ${tests.join(', ')})`,
      });
    if (c.exists === undefined && tests.length === 0)
      ctx.addIssue({ code: 'custom', path: [], message: 'give a test: equals, in, matches, gt, lt or exists' });
  });

/** Searched in every string value of the body (or its text when not JSON); see README. */
const Keyword = z
  .string()
  .max(200)
  .refine((k) => k.trim().length > 0, 'must not be empty or only spaces')
  .refine((k) => !/[\u0000-\u001f\u007f]/.test(k), 'must not contain control characters');

export const MatchSchema = z.strictObject({
  connections: Names.optional(),
  groups: Names.optional(),
  subjects: Names.optional(),
  statementKinds: z.array(z.enum(STATEMENT_KINDS)).min(1).optional(),
  /** "schema.table" or "table" (any schema), as PostgreSQL stores the name. */
  tables: Names.optional(),
  columns: Names.optional(),
  functions: Names.optional(),
  hasWhere: z.boolean().optional(),
  hasLimit: z.boolean().optional(),
  multiStatement: z.boolean().optional(),
  httpMethods: z
    .array(z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method'))
    .min(1)
    .optional(),
  /** Path globs after the connection prefix; "*" matches within a segment, "**" across. */
  httpPaths: Names.optional(),
  /** HTTP JSON body conditions, all of which must hold. */
  httpBody: z.array(BodyConditionSchema).min(1).max(32).optional(),
  /** Words or phrases in the HTTP body, case-insensitive and word-bounded; any one matches. */
  keywords: z.array(Keyword).min(1).max(500).optional(),
  /** The rule applies from / until these instants (ISO 8601 with offset). */
  notBefore: z.iso.datetime({ offset: true }).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64'),
  description: z.string().max(1000).optional(),
  match: MatchSchema.prefault({}),
  action: z.enum(ACTIONS),
  mask: z
    .strictObject({
      entities: z.array(EntityName).optional(),
      columns: z.array(ColumnMaskSchema).optional(),
      style: MaskStyleSchema.optional(),
    })
    .optional(),
  /** Shown to the client when the rule blocks, and to the steward on review. */
  reason: z.string().max(500).optional(),
});

export const GuardrailsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  relax: z.array(z.enum(GUARDRAIL_IDS)).default([]),
  vectorTables: z.array(z.string().min(1)).default(['documents']),
  vectorIdColumns: z.array(z.string().min(1)).min(1).default(['id']),
});

const Count = z.number().int().positive();
export const BudgetsSchema = z.strictObject({
  statement: z.strictObject({ maxRows: Count.optional(), maxBytes: Count.optional() }).optional(),
  perIdentity: z.strictObject({ rowsPerHour: Count.optional(), bytesPerHour: Count.optional() }).optional(),
});

export const MaskingSchema = z.strictObject({
  /** Style used where a rule names none. */
  style: MaskStyleSchema.default('redact'),
  /** Entities masked in every allowed response, whatever rule matched. */
  entities: z.array(EntityName).default([]),
});

export const PolicySchema = z
  .strictObject({
    version: z.number().int().nonnegative(),
    /** What happens to a statement or request no rule matches. */
    defaultAction: z.enum(['allow', 'block']).default('block'),
    rules: z.array(RuleSchema).max(1000).default([]),
    guardrails: GuardrailsSchema.prefault({}),
    budgets: BudgetsSchema.optional(),
    detectors: DetectorsSchema.prefault({}),
    masking: MaskingSchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    const known = new Set<string>([...BUILTIN_ENTITIES, ...p.detectors.custom.map((c) => c.name)]);
    const unknown = (e: string) =>
      `unknown entity "${e}" (built-in: ${BUILTIN_ENTITIES.join(', ')}; or a custom detector name)`;
    p.masking.entities.forEach((e, j) => {
      if (!known.has(e)) ctx.addIssue({ code: 'custom', path: ['masking', 'entities', j], message: unknown(e) });
    });
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
      if (r.action === 'mask' && !r.mask)
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'mask'], message: 'a mask rule needs "mask"' });
      if (r.action !== 'mask' && r.mask)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'mask'],
          message: `only mask rules take "mask" (action is ${r.action})`,
        });
      r.mask?.entities?.forEach((e, j) => {
        if (!known.has(e))
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'mask', 'entities', j], message: unknown(e) });
      });
      if (r.match.notBefore && r.match.notAfter && Date.parse(r.match.notBefore) >= Date.parse(r.match.notAfter)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'match', 'notAfter'], message: 'must be after notBefore' });
      }
    });
    const seenCustom = new Set<string>();
    p.detectors.custom.forEach((c, i) => {
      if (seenCustom.has(c.name))
        ctx.addIssue({
          code: 'custom',
          path: ['detectors', 'custom', i, 'name'],
          message: `duplicate detector "${c.name}"`,
        });
      seenCustom.add(c.name);
    });
  });

/** A policy as written (defaults optional). */
export type PolicyInput = z.input<typeof PolicySchema>;
/** A validated policy with defaults filled in. */
export type Policy = z.output<typeof PolicySchema>;
export type Rule = Policy['rules'][number];
export type RuleMatch = Rule['match'];
export type Action = Rule['action'];
export type ColumnMask = z.output<typeof ColumnMaskSchema>;

/** "detectors.custom[0].pattern" from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(policy)';
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; errors: string[] };

/** Validates a policy; errors read "field.path: problem", one per problem. */
export function parsePolicy(input: unknown): PolicyParseResult {
  const r = PolicySchema.safeParse(input);
  if (r.success) return { ok: true, policy: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
}
