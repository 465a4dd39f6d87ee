import { Injectable } from '@nestjs/common';
import type { ConfigAck, ConfigRejected, Heartbeat, Hello } from '@portcullis/proto';
import { AppConfig } from '../config/app-config.js';
import { PrismaService } from '../db/prisma.service.js';

/**
 * What the store says about an agent's stream. `connectedAt` doubles as the identity of a stream:
 * an ending stream marks its agent offline only while it is still the newest one, in one
 * conditional UPDATE, so a reconnect racing on another replica is never marked offline.
 */
@Injectable()
export class AgentPresence {
  constructor(
    private readonly prisma: PrismaService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Registration labels stay authoritative (they decide which connections the agent receives);
   * the labels in Hello are only reported by the agent and are not stored.
   */
  async connected(agentId: string, hello: Hello, connectedAt: Date): Promise<void> {
    await this.prisma.agent.update({
      where: { id: agentId },
      data: {
        version: hello.version || null,
        hostname: hello.hostname || null,
        addresses: hello.addresses.map((a) => ({ protocol: a.protocol, address: a.address })),
        online: true,
        connectedAt,
        lastSeenAt: connectedAt,
      },
    });
  }

  /** False when the agent was revoked meanwhile: its stream must end. */
  async heartbeat(agentId: string, beat: Heartbeat): Promise<boolean> {
    const { count } = await this.prisma.agent.updateMany({
      where: { id: agentId, revokedAt: null },
      data: { lastSeenAt: new Date(), liveSessions: beat.liveSessions, online: true },
    });
    return count === 1;
  }

  async acked(agentId: string, ack: ConfigAck): Promise<void> {
    await this.prisma.agent.update({
      where: { id: agentId },
      data: { configVersionAcked: BigInt(ack.version), configError: null },
    });
  }

  async rejected(agentId: string, rejected: ConfigRejected): Promise<void> {
    await this.prisma.agent.update({
      where: { id: agentId },
      data: { configError: `version ${rejected.version}: ${rejected.error}`.slice(0, 2000) },
    });
  }

  async disconnected(agentId: string, connectedAt: Date): Promise<void> {
    await this.prisma.agent.updateMany({
      where: { id: agentId, connectedAt },
      data: { online: false, liveSessions: 0 },
    });
  }

  /**
   * Agents with an open stream and a recent heartbeat that serve one of these network labels: the
   * snapshot builder's rule (labels intersect), among the agents that can answer now.
   */
  onlineAgentsServing(networkLabels: string[]) {
    return this.prisma.agent.findMany({
      where: {
        online: true,
        revokedAt: null,
        lastSeenAt: { gte: new Date(Date.now() - this.config.agentOfflineAfterMs) },
        labels: { hasSome: networkLabels },
      },
      select: { id: true, name: true, labels: true, addresses: true },
      orderBy: { name: 'asc' },
    });
  }

  /** Agents that stopped beating without their stream ending (a replica died, a network cut). */
  async markSilentOffline(): Promise<number> {
    const { count } = await this.prisma.agent.updateMany({
      where: { online: true, lastSeenAt: { lt: new Date(Date.now() - this.config.agentOfflineAfterMs) } },
      data: { online: false, liveSessions: 0 },
    });
    return count;
  }
}
