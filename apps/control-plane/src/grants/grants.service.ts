import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { CreateGrant, GrantQuery, GrantView } from '@portcullis/api';
import { AuditService } from '../audit/audit.service.js';
import { actorName, type AuthenticatedUser } from '../auth/decorators.js';
import { isUuid } from '../common/prisma-errors.js';
import { ConfigChangesService } from '../config-stream/config-changes.service.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { GrantsRepository, type GrantRow } from './grants.repository.js';

/** Who (a group or one subject) may open sessions on which connection. */
@Injectable()
export class GrantsService {
  constructor(
    private readonly repository: GrantsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly changes: ConfigChangesService,
    private readonly audit: AuditService,
  ) {}

  /** Expired grants are listed too, marked `expired`, unless the query asks for one kind only. */
  async list(query: GrantQuery): Promise<GrantView[]> {
    const connectionId = query.connection === undefined ? undefined : (await this.connectionNamed(query.connection, 'connection')).id;
    const now = new Date();
    const rows = await this.repository.list({ connectionId, subject: query.subject, group: query.group, expired: query.expired }, now);
    return rows.map((row) => view(row, now));
  }

  async create(input: CreateGrant, user: AuthenticatedUser): Promise<GrantView> {
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new BadRequestException('expiresAt: must be in the future');
    const row = await this.changes.apply(async (tx) => {
      const connection = await this.connectionNamed(input.connection, 'connection', tx);
      const row = await this.repository.create(tx, {
        connectionId: connection.id,
        group: input.group ?? null,
        subject: input.subject ?? null,
        reason: input.reason ?? null,
        expiresAt,
        createdBy: actorName(user),
      });
      await this.audit.record(
        { actor: actorName(user), action: 'grant.create', target: `connection:${connection.name}`, details: auditDetails(row) },
        tx,
      );
      return row;
    });
    return view(row, new Date());
  }

  async revoke(id: string, user: AuthenticatedUser): Promise<void> {
    const grant = isUuid(id) ? await this.repository.findById(id) : null;
    if (!grant) throw new NotFoundException(`grant ${id} does not exist`);
    await this.changes.apply(async (tx) => {
      await this.repository.delete(tx, grant.id);
      await this.audit.record(
        { actor: actorName(user), action: 'grant.revoke', target: `connection:${grant.connection.name}`, details: auditDetails(grant) },
        tx,
      );
    });
  }

  /** A connection the request names; not finding it is the caller's mistake (400). */
  private async connectionNamed(idOrName: string, field: string, tx?: Parameters<ConnectionsRepository['findByIdOrName']>[1]) {
    const connection = await this.connections.findByIdOrName(idOrName, tx);
    if (!connection) throw new BadRequestException(`${field}: connection "${idOrName}" does not exist`);
    return connection;
  }
}

function view(row: GrantRow, now: Date): GrantView {
  return {
    id: row.id,
    connectionId: row.connectionId,
    connection: row.connection.name,
    group: row.group,
    subject: row.subject,
    reason: row.reason,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    expired: row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime(),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

function auditDetails(row: GrantRow) {
  return { id: row.id, group: row.group, subject: row.subject, reason: row.reason, expiresAt: row.expiresAt?.toISOString() ?? null };
}
