import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { PrismaService } from '../db/prisma.service.js';
import { actorName, type AuthenticatedUser } from './decorators.js';

const RECORD_EVERY_MS = 60_000;

/**
 * Records the identities seen in valid tokens (subject, username, groups, roles, last seen) so
 * grants and revocations can name them, and audits `login.seen` the first time a subject is seen
 * on a (UTC) day. At most one write a minute per subject and replica; a failed write never fails
 * the request.
 */
@Injectable()
export class IdentitySightings {
  private readonly log = new Logger(IdentitySightings.name);
  private readonly lastRecorded = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
  ) {}

  seen(user: AuthenticatedUser, now = Date.now()): void {
    const last = this.lastRecorded.get(user.subject);
    if (last !== undefined && now - last < RECORD_EVERY_MS) return;
    this.lastRecorded.set(user.subject, now);
    if (this.lastRecorded.size > 10_000) this.forgetOlderThan(now - RECORD_EVERY_MS);
    this.record(user, new Date(now)).catch((error: unknown) => {
      this.lastRecorded.delete(user.subject);
      this.log.warn(`could not record identity ${user.subject}: ${(error as Error).message}`);
    });
  }

  /**
   * Each step is one conditional statement, so when several replicas see a subject at once,
   * exactly one of them finds it new (or last seen before today) and audits the sighting.
   */
  private async record(user: AuthenticatedUser, now: Date): Promise<void> {
    const fields = { username: user.username ?? null, groups: user.groups, roles: user.roles, lastSeenAt: now };
    const subject = user.subject;
    const startOfDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    let firstToday = (await this.prisma.identity.createMany({ data: [{ subject, firstSeenAt: now, ...fields }], skipDuplicates: true })).count === 1;
    if (!firstToday) {
      const earlier = await this.prisma.identity.updateMany({ where: { subject, lastSeenAt: { lt: startOfDay } }, data: fields });
      firstToday = earlier.count === 1;
      if (!firstToday) await this.prisma.identity.update({ where: { subject }, data: fields });
    }
    if (firstToday) {
      await this.audit.record({
        actor: actorName(user),
        action: 'login.seen',
        target: `identity:${subject}`,
        details: { subject, username: fields.username, groups: user.groups, roles: user.roles },
      });
    }
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [subject, at] of this.lastRecorded) if (at < cutoff) this.lastRecorded.delete(subject);
  }
}
