/** How far before a candidate context words are looked for, in characters. */
export const CONTEXT_WINDOW = 48;

/**
 * True when one of `words` (lower case) occurs in the `window` characters before `start`.
 * Only text before a value counts, so a streaming masker that has already emitted text never
 * sees a later word change an earlier verdict.
 */
export function hasContext(text: string, start: number, words: readonly string[], window = CONTEXT_WINDOW): boolean {
  if (words.length === 0) return false;
  const before = text.slice(Math.max(0, start - window), start).toLowerCase();
  for (const w of words) if (before.includes(w)) return true;
  return false;
}

export function clamp01(n: number): number {
  return n < 0 ? 0 : n > 1 ? 1 : n;
}
