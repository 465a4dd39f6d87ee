import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import type { Prisma } from '../generated/prisma/client.js';

@Injectable()
export class PoliciesRepository {
  constructor(private readonly prisma: PrismaService) {}

  latest(db: Tx = this.prisma) {
    return db.policyVersion.findFirst({ orderBy: { version: 'desc' } });
  }

  find(version: number, db: Tx = this.prisma) {
    return db.policyVersion.findUnique({ where: { version } });
  }

  list() {
    return this.prisma.policyVersion.findMany({ orderBy: { version: 'desc' } });
  }

  /** Appends the next version; concurrent writers queue on the table lock, so numbers never clash. */
  async append(tx: Tx, row: { document: Prisma.InputJsonValue; createdBy: string; restoredFrom: number | null }) {
    await tx.$executeRawUnsafe('LOCK TABLE policy_versions IN EXCLUSIVE MODE');
    const last = await tx.policyVersion.findFirst({ orderBy: { version: 'desc' }, select: { version: true } });
    return tx.policyVersion.create({ data: { version: (last?.version ?? 0) + 1, ...row } });
  }
}
