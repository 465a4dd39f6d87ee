import { Injectable } from '@nestjs/common';
import type { IdentityQuery } from '@portcullis/api';
import { PrismaService, type Tx } from '../db/prisma.service.js';

// Serializes disables across replicas, so two admins disabling each other at once cannot both
// pass the last-admin check.
const IDENTITY_DISABLE_LOCK = 0x706f7274_69646e74n;

@Injectable()
export class IdentitiesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** By subject; one more row than asked tells whether another page exists. */
  list(query: IdentityQuery) {
    return this.prisma.identity.findMany({
      where: {
        username: query.username,
        disabledAt: query.disabled === undefined ? undefined : query.disabled ? { not: null } : null,
        subject: query.cursor ? { gt: query.cursor } : undefined,
      },
      orderBy: { subject: 'asc' },
      take: query.limit + 1,
    });
  }

  find(subject: string, tx: Tx | PrismaService = this.prisma) {
    return tx.identity.findUnique({ where: { subject } });
  }

  /** Takes the disable lock for the rest of `tx`. */
  async lockDisables(tx: Tx): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${IDENTITY_DISABLE_LOCK})`;
  }

  enabledAdminsOtherThan(tx: Tx, subject: string): Promise<number> {
    return tx.identity.count({ where: { roles: { has: 'admin' }, disabledAt: null, subject: { not: subject } } });
  }

  setDisabled(tx: Tx, subject: string, disabled: { at: Date; by: string; reason: string } | null) {
    return tx.identity.update({
      where: { subject },
      data: {
        disabledAt: disabled?.at ?? null,
        disabledBy: disabled?.by ?? null,
        disableReason: disabled?.reason ?? null,
      },
    });
  }
}

export type IdentityRow = NonNullable<Awaited<ReturnType<IdentitiesRepository['find']>>>;
