import { Injectable, Logger } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service.js';
import type { AuthenticatedUser } from './decorators.js';

const RECORD_EVERY_MS = 60_000;

/**
 * Records the identities seen in valid tokens (subject, username, groups, roles, last seen) so
 * grants and revocations can name them. At most one write a minute per subject and replica; a
 * failed write never fails the request.
 */
@Injectable()
export class IdentitySightings {
  private readonly log = new Logger(IdentitySightings.name);
  private readonly lastRecorded = new Map<string, number>();

  constructor(private readonly prisma: PrismaService) {}

  seen(user: AuthenticatedUser, now = Date.now()): void {
    const last = this.lastRecorded.get(user.subject);
    if (last !== undefined && now - last < RECORD_EVERY_MS) return;
    this.lastRecorded.set(user.subject, now);
    if (this.lastRecorded.size > 10_000) this.forgetOlderThan(now - RECORD_EVERY_MS);
    const fields = { username: user.username ?? null, groups: user.groups, roles: user.roles, lastSeenAt: new Date(now) };
    this.prisma.identity
      .upsert({ where: { subject: user.subject }, create: { subject: user.subject, ...fields }, update: fields })
      .catch((error: unknown) => {
        this.lastRecorded.delete(user.subject);
        this.log.warn(`could not record identity ${user.subject}: ${(error as Error).message}`);
      });
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [subject, at] of this.lastRecorded) if (at < cutoff) this.lastRecorded.delete(subject);
  }
}
