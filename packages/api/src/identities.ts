import { z } from 'zod';

/** Why an identity is disabled or enabled again: kept in the audit trail and shown to agents. */
export const IdentityChangeReason = z.string().trim().min(1, 'a reason is required').max(500);

export const DisableIdentity = z.strictObject({ reason: IdentityChangeReason });
export type DisableIdentity = z.infer<typeof DisableIdentity>;

export const EnableIdentity = z.strictObject({ reason: IdentityChangeReason });
export type EnableIdentity = z.infer<typeof EnableIdentity>;

/** An identity seen in a valid token (a person or a service account). */
export const IdentityView = z.object({
  subject: z.string(),
  username: z.string().nullable(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  disabledBy: z.string().nullable(),
  disableReason: z.string().nullable(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
});
export type IdentityView = z.infer<typeof IdentityView>;

export const IdentityQuery = z.strictObject({
  username: z.string().min(1).max(256).optional(),
  /** true: only disabled identities; false: only enabled ones. */
  disabled: z.stringbool().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(256).optional(),
});
export type IdentityQuery = z.infer<typeof IdentityQuery>;

/** Ordered by subject; `nextCursor` is null on the last page. */
export const IdentityPage = z.object({ items: z.array(IdentityView), nextCursor: z.string().nullable() });
export type IdentityPage = z.infer<typeof IdentityPage>;
