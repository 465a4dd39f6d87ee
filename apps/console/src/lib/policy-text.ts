/**
 * A first policy to edit when the control plane cannot load one (packages/policy's format): mask
 * card numbers, SSNs and e-mail addresses for analysts, stop deletes that have no WHERE.
 */
export const STARTER_POLICY: Record<string, unknown> = {
  defaultAction: 'allow',
  rules: [
    {
      id: 'mask-pii-for-analysts',
      match: { groups: ['analysts'] },
      action: 'mask',
      mask: { entities: ['CREDIT_CARD', 'US_SSN', 'EMAIL'], style: 'partial' },
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
