import type { ConfigSnapshot, Connection } from '@portcullis/proto';
import type { VerifiedIdentity } from './token-verifier.js';

export type AccessRefusalKind = 'unknown-connection' | 'disabled' | 'no-grant';

export type AccessDecision =
  { ok: true; connection: Connection } | { ok: false; kind: AccessRefusalKind; reason: string };

/**
 * May this identity use this connection right now? Protocol-free (shared by the PostgreSQL and
 * HTTP engines) and pure: the snapshot and the clock are arguments, so the same call decides a
 * new login and re-checks live sessions when a new snapshot arrives. No snapshot → refused.
 */
export function checkAccess(
  snapshot: ConfigSnapshot | undefined,
  identity: Pick<VerifiedIdentity, 'subject' | 'username' | 'groups'>,
  connectionName: string,
  kind: 'postgres' | 'http',
  now: Date,
): AccessDecision {
  const connection = snapshot?.connections.find((c) => c.name === connectionName && c.kind === kind);
  if (!snapshot || !connection) {
    return { ok: false, kind: 'unknown-connection', reason: `connection "${connectionName}" does not exist` };
  }
  const disabled = snapshot.disabledIdentities.find((d) => d.subject === identity.subject);
  if (disabled) {
    return { ok: false, kind: 'disabled', reason: `identity ${disabled.username || identity.username} is disabled` };
  }
  const granted = snapshot.grants.some(
    (grant) =>
      grant.connectionId === connection.id &&
      (grant.expiresAt === undefined || grant.expiresAt.getTime() > now.getTime()) &&
      ((grant.subject !== '' && grant.subject === identity.subject) ||
        (grant.group !== '' && identity.groups.includes(grant.group))),
  );
  if (!granted) return { ok: false, kind: 'no-grant', reason: `no grant on ${connectionName}` };
  return { ok: true, connection };
}
