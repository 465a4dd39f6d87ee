export type FieldProblems = Record<string, string[]>;

/**
 * Groups `{path, message}` issues (from the API's 400 or from parsing a form with the shared zod
 * schema) by their first path segment, so each message can stand next to its field. Issues
 * without a path go under `fallback`.
 */
export function problemsByField(
  issues: readonly { path: string | readonly PropertyKey[]; message: string }[],
  fallback = 'form',
): FieldProblems {
  const out: FieldProblems = {};
  for (const { path, message } of issues) {
    const first = typeof path === 'string' ? path.split('.')[0] : path[0];
    const field = first === undefined || first === '' ? fallback : String(first);
    (out[field] ??= []).push(message);
  }
  return out;
}
