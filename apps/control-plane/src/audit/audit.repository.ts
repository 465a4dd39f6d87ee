import { Injectable } from '@nestjs/common';
import type { AuditQuery } from '@portcullis/api';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import type { Prisma } from '../generated/prisma/client.js';

// Serializes appends across replicas: each entry must see the hash of the one before it.
const AUDIT_APPEND_LOCK = 0x706f7274_61756474n;

export interface NewAuditEntry {
  time: Date;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: Prisma.InputJsonObject;
  prevHash: string;
  hash: string;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Takes the append lock for the rest of `tx` and returns the newest entry's hash, if any. */
  async lockAndReadLastHash(tx: Tx): Promise<string | undefined> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`;
    const last = await tx.auditEntry.findFirst({ orderBy: { id: 'desc' }, select: { hash: true } });
    return last?.hash;
  }

  async append(tx: Tx, entry: NewAuditEntry): Promise<void> {
    await tx.auditEntry.create({ data: entry });
  }

  /** Newest first; one more row than asked tells whether another page exists. */
  list(query: AuditQuery) {
    return this.prisma.auditEntry.findMany({
      where: {
        action: query.action,
        actor: query.actor,
        time: { gte: query.from ? new Date(query.from) : undefined, lt: query.to ? new Date(query.to) : undefined },
        id: query.cursor ? { lt: BigInt(query.cursor) } : undefined,
      },
      orderBy: { id: 'desc' },
      take: query.limit + 1,
    });
  }
}
