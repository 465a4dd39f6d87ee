import { z } from 'zod';

/**
 * A policy document (packages/policy PolicySchema). Checked here only as a JSON object: the
 * control plane validates it with the policy engine itself, and a 400 names each field at fault
 * ("rules[0].mask.entities[1]: unknown entity ...").
 */
export const PolicyDocument = z.record(z.string(), z.unknown());
export type PolicyDocument = z.infer<typeof PolicyDocument>;

/** One version of the policy. Version 0 is the built-in default (nothing saved yet). */
export const PolicyView = z.object({
  version: z.number().int(),
  policy: PolicyDocument,
  /** Null for the built-in default. */
  createdAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  /** Set when this version was made by a rollback: the version it copies. */
  restoredFrom: z.number().int().nullable(),
});
export type PolicyView = z.infer<typeof PolicyView>;

export const PolicyVersionList = z.object({ items: z.array(PolicyView) });
export type PolicyVersionList = z.infer<typeof PolicyVersionList>;

export const RollbackPolicy = z.strictObject({ version: z.number().int().nonnegative() });
export type RollbackPolicy = z.infer<typeof RollbackPolicy>;

/** A sample HTTP request for the preview: path below the connection prefix, body as JSON. */
export const PreviewHttpRequest = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Za-z]{1,20}$/, 'must be an HTTP method like POST')
    .transform((m) => m.toUpperCase()),
  // As the agent decides: on the path alone, its query string removed.
  path: z
    .string()
    .regex(/^\/[^?#]*$/, 'must start with "/" and hold no query string (the path after /c/<connection>)')
    .max(2000),
  /** The request body as parsed JSON (what `match.httpBody` and `keywords` look at). */
  body: z.unknown().optional(),
});
export type PreviewHttpRequest = z.infer<typeof PreviewHttpRequest>;

/**
 * Evaluates a policy against a sample SQL statement or HTTP request, and sample text: a draft
 * (`policy`, admins only) or, when absent, the one in force. The `hash` masking style uses a
 * preview-only key, so previewed hashes never match those in recordings.
 */
export const PreviewPolicy = z
  .strictObject({
    policy: PolicyDocument.optional(),
    sql: z.string().max(100_000).optional(),
    http: PreviewHttpRequest.optional(),
    text: z.string().max(100_000).optional(),
    connection: z.string().max(200).default('preview'),
    groups: z.array(z.string().max(200)).max(100).default([]),
    subject: z.string().max(200).default('preview'),
  })
  .refine((p) => p.sql !== undefined || p.http !== undefined || p.text !== undefined, {
    message: 'give sql or http, text, or both',
    path: ['sql'],
  })
  .refine((p) => p.sql === undefined || p.http === undefined, {
    message: 'a request is either sql or http, not both',
    path: ['http'],
  });
export type PreviewPolicy = z.infer<typeof PreviewPolicy>;

export const PolicyPreview = z.object({
  decision: z
    .object({
      action: z.enum(['allow', 'mask', 'block', 'review']),
      reason: z.string().nullable(),
      ruleId: z.string().nullable(),
      ruleIds: z.array(z.string()),
      policyVersion: z.number().int(),
    })
    .nullable(),
  /** Each rule tried, per statement, with why it did or did not match. */
  explanation: z.array(
    z.object({ ruleId: z.string(), statement: z.number().int().nullable(), matched: z.boolean(), why: z.string() }),
  ),
  /** `text` masked as a result value would be under the decision (all entities when no sql). */
  masked: z
    .object({
      text: z.string(),
      findings: z.array(z.object({ entity: z.string(), start: z.number().int(), end: z.number().int() })),
    })
    .nullable(),
});
export type PolicyPreview = z.infer<typeof PolicyPreview>;
