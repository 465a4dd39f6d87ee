import { z } from 'zod';

/** Lower-case DNS-label style names: they appear in URLs, database names and shell snippets. */
export const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit');

export const NetworkLabel = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 lower-case letters, digits, dots, dashes or underscores');

export const Labels = z.array(NetworkLabel).min(1, 'needs at least one network label').max(32);

/** The error body every 4xx/5xx of the REST API carries. */
export const ApiError = z.object({
  statusCode: z.number(),
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof ApiError>;
