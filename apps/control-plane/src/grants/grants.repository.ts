import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import type { Prisma } from '../generated/prisma/client.js';

const withConnectionName = { connection: { select: { name: true } } } as const;
const withConnectionNameAndKind = { connection: { select: { name: true, kind: true } } } as const;

export interface GrantFilter {
  connectionId?: string;
  subject?: string;
  group?: string;
  /** true: only expired; false: only in force. */
  expired?: boolean;
}

/** A grant is in force while it has no expiry or its expiry is still ahead. */
export const inForce = (now: Date): Prisma.GrantWhereInput => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

@Injectable()
export class GrantsRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(filter: GrantFilter, now: Date) {
    const expiry: Prisma.GrantWhereInput | undefined =
      filter.expired === undefined ? undefined : filter.expired ? { expiresAt: { lte: now } } : inForce(now);
    return this.prisma.grant.findMany({
      where: { AND: [{ connectionId: filter.connectionId, subject: filter.subject, group: filter.group }, expiry ?? {}] },
      include: withConnectionName,
      orderBy: { createdAt: 'asc' },
    });
  }

  /** The grants in force that let this subject, or one of these groups, in (on one connection if given). */
  inForceFor(who: { subject: string; groups: string[] }, now: Date, connectionId?: string) {
    return this.prisma.grant.findMany({
      where: {
        AND: [{ connectionId }, inForce(now), { OR: [{ subject: who.subject }, { group: { in: who.groups } }] }],
      },
      include: withConnectionNameAndKind,
      orderBy: [{ connection: { name: 'asc' } }, { createdAt: 'asc' }],
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
export type GrantInForce = Awaited<ReturnType<GrantsRepository['inForceFor']>>[number];
