import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service.js';

@Injectable()
export class MeRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Agents with an open stream and a recent heartbeat that serve one of these network labels. */
  onlineAgentsServing(networkLabels: string[], seenSince: Date) {
    return this.prisma.agent.findMany({
      where: { online: true, revokedAt: null, lastSeenAt: { gte: seenSince }, labels: { hasSome: networkLabels } },
      select: { id: true, name: true, labels: true, addresses: true },
      orderBy: { name: 'asc' },
    });
  }
}
