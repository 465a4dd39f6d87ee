import { z } from 'zod';

export const CreateGrant = z
  .strictObject({
    /** Connection name or id. */
    connection: z.string().min(1),
    group: z.string().min(1).max(200).optional(),
    subject: z.string().min(1).max(200).optional(),
    reason: z.string().max(500).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((g) => (g.group === undefined) !== (g.subject === undefined), {
    message: 'give exactly one of group or subject',
    path: ['group'],
  });
export type CreateGrant = z.infer<typeof CreateGrant>;

export const GrantView = z.object({
  id: z.string(),
  connectionId: z.string(),
  connection: z.string(),
  group: z.string().nullable(),
  subject: z.string().nullable(),
  reason: z.string().nullable(),
  expiresAt: z.string().nullable(),
  /** The expiry has passed: the grant no longer lets anyone in. */
  expired: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
export type GrantView = z.infer<typeof GrantView>;

export const GrantQuery = z.strictObject({
  /** Connection name or id. */
  connection: z.string().min(1).optional(),
  subject: z.string().min(1).max(200).optional(),
  group: z.string().min(1).max(200).optional(),
  /** true: only expired grants; false: only grants in force. Both when absent. */
  expired: z.stringbool().optional(),
});
export type GrantQuery = z.infer<typeof GrantQuery>;

export const GrantList = z.object({ items: z.array(GrantView) });
export type GrantList = z.infer<typeof GrantList>;
