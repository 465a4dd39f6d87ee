/** The roles the control plane knows; anything else in the token is ignored by the console. */
export const ROLES = ['admin', 'steward', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  subject: string;
  username: string;
  roles: Role[];
  groups: string[];
}

/**
 * Reads the claims of an access token for display and navigation only. The console does not verify
 * the signature: the control plane does, on every request, and it alone decides what is allowed.
 */
export function userFromAccessToken(token: string): User {
  const claims = decodeJwtPayload(token);
  const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realmAccess?.roles) ? realmAccess.roles : [];
  const groups = Array.isArray(claims.groups) ? claims.groups : [];
  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  return {
    subject,
    username: typeof claims.preferred_username === 'string' ? claims.preferred_username : subject,
    roles: ROLES.filter((role) => roles.includes(role)),
    // Keycloak may send groups as paths ("/analysts"); the control plane grants by plain name.
    groups: groups.filter((g): g is string => typeof g === 'string').map((g) => g.replace(/^\//, '')),
  };
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('the access token is not a JWT');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '=')), (c) =>
    c.charCodeAt(0),
  );
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof claims !== 'object' || claims === null) throw new Error('the access token payload is not an object');
  return claims as Record<string, unknown>;
}

/**
 * When to refresh a token that expires at `expiresAt` (ms): a minute early, or at three quarters of
 * a short lifetime, so a slow refresh still lands before the old token is refused.
 */
export function refreshDelayMs(issuedAt: number, expiresAt: number, now: number): number {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  const margin = Math.min(60_000, lifetime / 4);
  return Math.max(0, expiresAt - margin - now);
}
