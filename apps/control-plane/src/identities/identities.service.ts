import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { IdentityPage, IdentityQuery, IdentityView } from '@portcullis/api';
import { AuditService } from '../audit/audit.service.js';
import { actorName, type AuthenticatedUser } from '../auth/decorators.js';
import { ConfigChangesService } from '../config-stream/config-changes.service.js';
import type { Tx } from '../db/prisma.service.js';
import { IdentitiesRepository, type IdentityRow } from './identities.repository.js';

/**
 * Identities seen in tokens, and their revocation. A disable goes through the config change path,
 * so every agent refuses the subject (and ends its live sessions) with the next snapshot.
 */
@Injectable()
export class IdentitiesService {
  constructor(
    private readonly repository: IdentitiesRepository,
    private readonly changes: ConfigChangesService,
    private readonly audit: AuditService,
  ) {}

  async list(query: IdentityQuery): Promise<IdentityPage> {
    const rows = await this.repository.list(query);
    const page = rows.slice(0, query.limit);
    return { items: page.map(view), nextCursor: rows.length > query.limit ? (page.at(-1)?.subject ?? null) : null };
  }

  async get(subject: string): Promise<IdentityView> {
    return view(await this.find(subject));
  }

  /** Disabling again keeps the first disable (time, author, reason) and changes nothing. */
  async disable(subject: string, reason: string, user: AuthenticatedUser): Promise<IdentityView> {
    const row = await this.changes.apply(async (tx) => {
      await this.repository.lockDisables(tx);
      const current = await this.find(subject, tx);
      if (current.disabledAt) return current;
      if (current.roles.includes('admin') && (await this.repository.enabledAdminsOtherThan(tx, subject)) === 0) {
        throw new ConflictException(`${current.username ?? subject} is the last enabled admin and cannot be disabled`);
      }
      const row = await this.repository.setDisabled(tx, subject, { at: new Date(), by: actorName(user), reason });
      await this.recordAudit(tx, 'identity.disable', row, reason, user);
      return row;
    });
    return view(row);
  }

  async enable(subject: string, reason: string, user: AuthenticatedUser): Promise<IdentityView> {
    const row = await this.changes.apply(async (tx) => {
      const current = await this.find(subject, tx);
      if (!current.disabledAt) return current;
      const row = await this.repository.setDisabled(tx, subject, null);
      await this.recordAudit(tx, 'identity.enable', row, reason, user);
      return row;
    });
    return view(row);
  }

  private recordAudit(
    tx: Tx,
    action: string,
    row: IdentityRow,
    reason: string,
    user: AuthenticatedUser,
  ): Promise<void> {
    return this.audit.record(
      {
        actor: actorName(user),
        action,
        target: `identity:${row.subject}`,
        details: { subject: row.subject, username: row.username, reason },
      },
      tx,
    );
  }

  private async find(subject: string, tx?: Tx): Promise<IdentityRow> {
    const row = await this.repository.find(subject, tx);
    if (!row) throw new NotFoundException(`identity ${subject} has not been seen`);
    return row;
  }
}

function view(row: IdentityRow): IdentityView {
  return {
    subject: row.subject,
    username: row.username,
    groups: row.groups,
    roles: row.roles,
    disabled: row.disabledAt !== null,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledBy: row.disabledBy,
    disableReason: row.disableReason,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
  };
}
