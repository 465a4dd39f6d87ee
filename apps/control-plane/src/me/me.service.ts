import { Injectable, NotFoundException } from '@nestjs/common';
import type { ConnectionEndpoints, ConnectionKind, Me } from '@portcullis/api';
import { AgentAddress } from '@portcullis/api';
import type { AuthenticatedUser } from '../auth/decorators.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { GrantsRepository, type GrantInForce } from '../grants/grants.repository.js';
import { AgentPresence } from '../agent-gateway/agent-presence.service.js';

/** What the caller is and may use: answers for any authenticated identity, about itself only. */
@Injectable()
export class MeService {
  constructor(
    private readonly presence: AgentPresence,
    private readonly grants: GrantsRepository,
    private readonly connections: ConnectionsRepository,
  ) {}

  async me(user: AuthenticatedUser): Promise<Me> {
    const grants = await this.grants.inForceFor(user, new Date());
    return {
      subject: user.subject,
      username: user.username ?? null,
      groups: user.groups,
      roles: user.roles,
      tokenExpiresAt: user.tokenExpiresAt?.toISOString() ?? null,
      grants: grants.map((g) => ({
        connection: g.connection.name,
        kind: g.connection.kind as ConnectionKind,
        via: via(g),
        expiresAt: g.expiresAt?.toISOString() ?? null,
      })),
    };
  }

  /**
   * Admins, and callers holding a grant in force on the connection, get its online agents. Anyone
   * else gets the same 404 as for a connection that does not exist: names are not disclosed.
   */
  async endpoints(name: string, user: AuthenticatedUser): Promise<ConnectionEndpoints> {
    const now = new Date();
    const connection = await this.connections.findByIdOrName(name);
    const allowed =
      connection !== null &&
      (user.roles.includes('admin') || (await this.grants.inForceFor(user, now, connection.id)).length > 0);
    if (!connection || !allowed)
      throw new NotFoundException(`connection "${name}" does not exist or you hold no grant on it`);
    const agents = await this.presence.onlineAgentsServing(connection.networkLabels);
    return {
      connection: { name: connection.name, kind: connection.kind as ConnectionKind },
      agents: agents.map((a) => ({
        id: a.id,
        name: a.name,
        labels: a.labels,
        // Written by the gateway from Hello; anything else in the column is left out, not trusted.
        addresses: (Array.isArray(a.addresses) ? a.addresses : []).flatMap((x) => {
          const parsed = AgentAddress.safeParse(x);
          return parsed.success ? [parsed.data] : [];
        }),
      })),
    };
  }
}

function via(grant: GrantInForce): string {
  return grant.subject !== null ? 'subject' : `group:${grant.group}`;
}
