import { z } from 'zod';
import { UsageError } from '../errors.js';

/** For repeatable options: `--label a --label b`. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Checks user input against the API's own schema before anything is sent. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new UsageError(`invalid ${what}: ${issues.join('; ')}`);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
