import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Agent tokens: `pca_<agent id without dashes>_<32 random bytes, base64url>`. The id lets the
 * gateway find the agent's row directly; only sha256(token) is stored, compared in constant time.
 */
const TOKEN = /^pca_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export function newAgentToken(agentId: string): string {
  return `pca_${agentId.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
}

/** sha256 of the whole token, hex: what `agents.token_hash` holds. */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The agent id (dashed UUID) a well-formed token names, or undefined for anything else. */
export function parseAgentToken(token: string): { agentId: string } | undefined {
  const hex = TOKEN.exec(token)?.[1];
  if (!hex) return undefined;
  return { agentId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` };
}

/** Whether `token` hashes to `tokenHash`, without leaking where they differ through timing. */
export function agentTokenMatches(token: string, tokenHash: string): boolean {
  const actual = Buffer.from(hashAgentToken(token), 'hex');
  const expected = Buffer.from(tokenHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
