import { z } from 'zod';

export const OverviewQuery = z.strictObject({
  window: z.enum(['1h', '24h', '7d']).default('1h'),
});
export type OverviewQuery = z.infer<typeof OverviewQuery>;

/** What happened on the data path in the window, from the stored recordings. */
export const OverviewStats = z.object({
  window: z.string(),
  since: z.string(),
  requests: z.number(),
  blocked: z.number(),
  masked: z.number(),
  refusedTokens: z.number(),
  maskedByEntity: z.record(z.string(), z.number()),
  liveSessions: z.number(),
});
export type OverviewStats = z.infer<typeof OverviewStats>;
