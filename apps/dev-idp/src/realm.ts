import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The part of a Keycloak realm export the dev IdP understands. Everything it knows about users,
 * groups, roles and clients comes from this file, so the same file imports into a real Keycloak.
 */
const ProtocolMapper = z.object({
  name: z.string(),
  protocolMapper: z.string(),
  config: z.record(z.string(), z.string()).default({}),
});

const Client = z.object({
  clientId: z.string().min(1),
  name: z.string().optional(),
  enabled: z.boolean().default(true),
  // Keycloak's defaults for a client created through an import.
  publicClient: z.boolean().default(false),
  secret: z.string().optional(),
  standardFlowEnabled: z.boolean().default(true),
  directAccessGrantsEnabled: z.boolean().default(false),
  serviceAccountsEnabled: z.boolean().default(false),
  redirectUris: z.array(z.string()).default([]),
  webOrigins: z.array(z.string()).default([]),
  attributes: z.record(z.string(), z.string()).default({}),
  protocolMappers: z.array(ProtocolMapper).default([]),
});
export type RealmClient = z.infer<typeof Client>;

const User = z.object({
  id: z.string().min(1),
  username: z.string().min(1),
  enabled: z.boolean().default(true),
  email: z.string().optional(),
  emailVerified: z.boolean().default(false),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  credentials: z.array(z.object({ type: z.string(), value: z.string().optional() })).default([]),
  realmRoles: z.array(z.string()).default([]),
  groups: z.array(z.string()).default([]),
  serviceAccountClientId: z.string().optional(),
});
export type RealmUser = z.infer<typeof User>;

const RealmFile = z.object({
  realm: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a URL-safe realm name'),
  enabled: z.boolean().default(true),
  accessTokenLifespan: z.number().int().positive().default(300),
  roles: z.object({ realm: z.array(z.object({ name: z.string() })).default([]) }).default({ realm: [] }),
  groups: z.array(z.object({ name: z.string() })).default([]),
  users: z.array(User).default([]),
  clients: z.array(Client).default([]),
});

export class Realm {
  private constructor(
    readonly name: string,
    readonly accessTokenLifespan: number,
    readonly users: readonly RealmUser[],
    readonly clients: readonly RealmClient[],
  ) {}

  static async load(file: string): Promise<Realm> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read realm file ${file}: ${(err as Error).message}`);
    }
    const parsed = RealmFile.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`realm file ${file} is not a realm export: ${z.prettifyError(parsed.error)}`);
    }
    const realm = parsed.data;
    const roles = new Set(realm.roles.realm.map((r) => r.name));
    const groups = new Set(realm.groups.map((g) => g.name));
    for (const user of realm.users) {
      for (const role of user.realmRoles) {
        if (!roles.has(role)) throw new Error(`realm file ${file}: user ${user.username} has unknown role ${role}`);
      }
      for (const group of user.groups) {
        if (!groups.has(groupName(group)))
          throw new Error(`realm file ${file}: user ${user.username} has unknown group ${group}`);
      }
    }
    return new Realm(
      realm.realm,
      realm.accessTokenLifespan,
      realm.users,
      realm.clients.filter((c) => c.enabled),
    );
  }

  client(clientId: string): RealmClient | undefined {
    return this.clients.find((c) => c.clientId === clientId);
  }

  user(id: string): RealmUser | undefined {
    return this.users.find((u) => u.id === id && u.enabled);
  }

  serviceAccount(clientId: string): RealmUser | undefined {
    return this.users.find((u) => u.serviceAccountClientId === clientId && u.enabled);
  }

  /** The enabled, interactive user with this username (or e-mail) and password, as Keycloak checks it. */
  authenticate(login: string, password: string): RealmUser | undefined {
    const name = login.trim().toLowerCase();
    const user = this.users.find(
      (u) =>
        u.enabled &&
        !u.serviceAccountClientId &&
        (u.username.toLowerCase() === name || u.email?.toLowerCase() === name),
    );
    const stored = user?.credentials.find((c) => c.type === 'password')?.value;
    return stored !== undefined && sameSecret(stored, password) ? user : undefined;
  }
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Keycloak's group membership mapper with `full.path: false` puts only the last path segment. */
export function groupName(path: string): string {
  return path.split('/').filter(Boolean).at(-1) ?? path;
}

/** What a client's protocol mappers put into its access tokens. */
export interface TokenShape {
  audiences: string[];
  /** Absent when the client has no group membership mapper. */
  groups?: { claim: string; fullPath: boolean };
}

export function tokenShape(client: RealmClient): TokenShape {
  const audiences = client.protocolMappers
    .filter((m) => m.protocolMapper === 'oidc-audience-mapper' && m.config['access.token.claim'] !== 'false')
    .map((m) => m.config['included.custom.audience'] ?? m.config['included.client.audience'])
    .filter((a): a is string => Boolean(a));
  const groupMapper = client.protocolMappers.find(
    (m) => m.protocolMapper === 'oidc-group-membership-mapper' && m.config['access.token.claim'] !== 'false',
  );
  return {
    audiences: [...new Set(audiences)],
    groups: groupMapper && {
      claim: groupMapper.config['claim.name'] ?? 'groups',
      fullPath: groupMapper.config['full.path'] !== 'false',
    },
  };
}

export function userClaims(user: RealmUser, shape: TokenShape): Record<string, unknown> {
  const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
  const claims: Record<string, unknown> = {
    preferred_username: user.username,
    realm_access: { roles: user.realmRoles },
  };
  if (shape.groups) {
    claims[shape.groups.claim] = user.groups.map((g) => (shape.groups!.fullPath ? g : groupName(g)));
  }
  if (user.email) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (name) {
    claims.name = name;
    if (user.firstName) claims.given_name = user.firstName;
    if (user.lastName) claims.family_name = user.lastName;
  }
  return claims;
}
