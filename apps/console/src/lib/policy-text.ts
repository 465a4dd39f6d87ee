/** A first policy to edit when the control plane has none yet: mask PII for analysts, stop bulk deletes. */
export const STARTER_POLICY: Record<string, unknown> = {
  rules: [
    {
      id: 'mask-pii-for-analysts',
      match: { groups: ['analysts'] },
      action: { type: 'mask', entities: ['credit_card', 'email', 'ssn'], style: 'partial' },
    },
    {
      id: 'block-delete-without-where',
      match: { statement: ['DELETE'], where: false },
      action: { type: 'block', reason: 'DELETE needs a WHERE clause' },
    },
  ],
};

export type ParsedPolicy = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/** Parses the editor's JSON, saying where it broke in line:column terms a person can find. */
export function parsePolicyText(text: string): ParsedPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    if (!position) return { ok: false, error: `Not valid JSON: ${message}` };
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return {
      ok: false,
      error: `Not valid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'The policy must be a JSON object, e.g. { "rules": [ … ] }' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
