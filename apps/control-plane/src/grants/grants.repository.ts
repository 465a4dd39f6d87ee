import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../db/prisma.service.js';

const withConnectionName = { connection: { select: { name: true } } } as const;

@Injectable()
export class GrantsRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(connectionId?: string) {
    return this.prisma.grant.findMany({
      where: { connectionId },
      include: withConnectionName,
      orderBy: { createdAt: 'asc' },
    });
  }

  findById(id: string) {
    return this.prisma.grant.findUnique({ where: { id }, include: withConnectionName });
  }

  create(
    tx: Tx,
    data: { connectionId: string; group: string | null; subject: string | null; reason: string | null; expiresAt: Date | null; createdBy: string },
  ) {
    return tx.grant.create({ data, include: withConnectionName });
  }

  delete(tx: Tx, id: string) {
    return tx.grant.delete({ where: { id } });
  }
}

export type GrantRow = NonNullable<Awaited<ReturnType<GrantsRepository['findById']>>>;
