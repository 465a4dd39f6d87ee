import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { AgentView, RegisterAgent, RegisteredAgent } from '@portcullis/api';
import { AuditService } from '../audit/audit.service.js';
import { actorName, type AuthenticatedUser } from '../auth/decorators.js';
import { isUniqueViolation, isUuid } from '../common/prisma-errors.js';
import { AppConfig } from '../config/app-config.js';
import { ConfigChangesService } from '../config-stream/config-changes.service.js';
import { PrismaService } from '../db/prisma.service.js';
import { hashAgentToken, newAgentToken } from './agent-token.js';
import { AgentsRepository, type AgentRow } from './agents.repository.js';

@Injectable()
export class AgentsService {
  constructor(
    private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repository: AgentsRepository,
    private readonly changes: ConfigChangesService,
    private readonly audit: AuditService,
  ) {}

  /** The token is returned here once; only its hash is kept. */
  async register(input: RegisterAgent, user: AuthenticatedUser): Promise<RegisteredAgent> {
    const id = randomUUID();
    const token = newAgentToken(id);
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const row = await this.repository.create(tx, { id, name: input.name, labels: input.labels, tokenHash: hashAgentToken(token) });
        await this.audit.record(
          { actor: actorName(user), action: 'agent.register', target: `agent:${input.name}`, details: { id, labels: input.labels } },
          tx,
        );
        return row;
      });
      return { ...this.view(row), token };
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException(`agent "${input.name}" already exists`);
      throw error;
    }
  }

  async list(): Promise<AgentView[]> {
    return (await this.repository.list()).map((row) => this.view(row));
  }

  async get(id: string): Promise<AgentView> {
    return this.view(await this.find(id));
  }

  /** Through the config change path, so the gateway drops the agent's stream on every replica. */
  async revoke(id: string, user: AuthenticatedUser): Promise<AgentView> {
    const agent = await this.find(id);
    if (agent.revokedAt) return this.view(agent);
    const row = await this.changes.apply(async (tx) => {
      const row = await this.repository.revoke(tx, agent.id, new Date());
      await this.audit.record({ actor: actorName(user), action: 'agent.revoke', target: `agent:${agent.name}`, details: { id } }, tx);
      return row;
    });
    return this.view(row);
  }

  private async find(id: string): Promise<AgentRow> {
    const agent = isUuid(id) ? await this.repository.findById(id) : null;
    if (!agent) throw new NotFoundException(`agent ${id} does not exist`);
    return agent;
  }

  private view(row: AgentRow, now = Date.now()): AgentView {
    const fresh = row.lastSeenAt !== null && now - row.lastSeenAt.getTime() < this.config.agentOfflineAfterMs;
    return {
      id: row.id,
      name: row.name,
      labels: row.labels,
      status: row.revokedAt ? 'revoked' : row.online && fresh ? 'online' : 'offline',
      version: row.version,
      hostname: row.hostname,
      addresses: Array.isArray(row.addresses) ? (row.addresses as AgentView['addresses']) : [],
      lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
      configVersionAcked: Number(row.configVersionAcked),
      configError: row.configError,
      liveSessions: row.liveSessions,
      createdAt: row.createdAt.toISOString(),
    };
  }
}
