import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../db/prisma.service.js';

@Injectable()
export class AgentsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tx: Tx, agent: { id: string; name: string; labels: string[]; tokenHash: string }) {
    return tx.agent.create({ data: agent });
  }

  list() {
    return this.prisma.agent.findMany({ orderBy: { name: 'asc' } });
  }

  findById(id: string) {
    return this.prisma.agent.findUnique({ where: { id } });
  }

  revoke(tx: Tx, id: string, at: Date) {
    return tx.agent.update({ where: { id }, data: { revokedAt: at } });
  }
}

export type AgentRow = NonNullable<Awaited<ReturnType<AgentsRepository['findById']>>>;
