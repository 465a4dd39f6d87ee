import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service.js';

/** A disable made on any replica is seen here within this long. */
const CACHE_MS = 1_000;

/**
 * Whether a subject is disabled, read from the store at most once a second per subject and
 * replica, so a burst of calls with one token costs one primary-key lookup. A failed read
 * propagates: the guard then refuses the call (fail closed).
 */
@Injectable()
export class DisabledIdentities {
  private readonly cache = new Map<string, { disabled: boolean; at: number }>();

  constructor(private readonly prisma: PrismaService) {}

  async isDisabled(subject: string, now = Date.now()): Promise<boolean> {
    const cached = this.cache.get(subject);
    if (cached && now - cached.at < CACHE_MS) return cached.disabled;
    const row = await this.prisma.identity.findUnique({ where: { subject }, select: { disabledAt: true } });
    const disabled = row?.disabledAt != null;
    if (this.cache.size > 10_000) this.forgetOlderThan(now - CACHE_MS);
    this.cache.set(subject, { disabled, at: now });
    return disabled;
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [subject, entry] of this.cache) if (entry.at < cutoff) this.cache.delete(subject);
  }
}
