import type { Role, User } from './claims.js';

/**
 * What each role may see and do in the console, mirroring the control plane's @Roles. The API
 * enforces the same rules; this only decides what to offer, so no one is shown a button that can
 * only fail.
 */
const CAPABILITIES = {
  /** Overview, connections, agents, grants, policies (read). */
  viewInventory: ['admin', 'steward', 'auditor'],
  /** Identities, sessions, replay, audit log. */
  viewRecordings: ['admin', 'auditor'],
  /** Create, edit, register, revoke, grant, disable, write policies. */
  manage: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Capability = keyof typeof CAPABILITIES;

export function can(user: Pick<User, 'roles'> | null | undefined, capability: Capability): boolean {
  const allowed: readonly Role[] = CAPABILITIES[capability];
  return !!user && user.roles.some((role) => allowed.includes(role));
}
