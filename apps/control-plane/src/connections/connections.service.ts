import {
  BadRequestException,
  ConflictException,
  GatewayTimeoutException,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  targetProblems,
  type ConnectionKind,
  type ConnectionTestResult,
  type ConnectionView,
  type CreateConnection,
  type CredentialInput,
  type UpdateConnection,
} from '@portcullis/api';
import { CONNECTION_TEST_WAIT_MS, ConnectionTests, type ConnectionTestRun } from '../agent-gateway/connection-tests.service.js';
import { AuditService } from '../audit/audit.service.js';
import { actorName, type AuthenticatedUser } from '../auth/decorators.js';
import { isUniqueViolation } from '../common/prisma-errors.js';
import { SecretBox, SecretKeyMissingError } from '../common/secret-box.js';
import { ConfigChangesService } from '../config-stream/config-changes.service.js';
import type { Prisma } from '../generated/prisma/client.js';
import { ConnectionsRepository, type ConnectionRow } from './connections.repository.js';

/**
 * Connections agents serve. Credentials are write-only: a secret reference is kept as given, a
 * value is sealed; no view, audit entry or error ever carries a credential value.
 */
@Injectable()
export class ConnectionsService {
  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly changes: ConfigChangesService,
    private readonly audit: AuditService,
    private readonly secrets: SecretBox,
    private readonly tests: ConnectionTests,
  ) {}

  async list(): Promise<ConnectionView[]> {
    return (await this.repository.list()).map(view);
  }

  async get(idOrName: string): Promise<ConnectionView> {
    return view(await this.find(idOrName));
  }

  async create(input: CreateConnection, user: AuthenticatedUser): Promise<ConnectionView> {
    const credential = this.credentialColumns(input.credential);
    const row = await this.uniqueName(input.name, () =>
      this.changes.apply(async (tx) => {
        const row = await this.repository.create(tx, {
          name: input.name,
          kind: input.kind,
          target: input.target,
          networkLabels: input.networkLabels,
          options: input.options as Prisma.InputJsonObject,
          description: input.description ?? null,
          ...credential,
        });
        await this.audit.record(
          { actor: actorName(user), action: 'connection.create', target: `connection:${row.name}`, details: auditDetails(row) },
          tx,
        );
        return row;
      }),
    );
    return view(row);
  }

  async update(idOrName: string, input: UpdateConnection, user: AuthenticatedUser): Promise<ConnectionView> {
    const current = await this.find(idOrName);
    checkKindAndTarget(input.kind ?? (current.kind as ConnectionKind), input.target ?? current.target);
    const credential = input.credential === undefined ? {} : this.credentialColumns(input.credential);
    const row = await this.changes.apply(async (tx) => {
      const row = await this.repository.update(tx, current.id, {
        kind: input.kind,
        target: input.target,
        networkLabels: input.networkLabels,
        options: input.options as Prisma.InputJsonObject | undefined,
        description: input.description,
        ...credential,
      });
      const changed = Object.keys(input).filter((key) => key !== 'credential');
      await this.audit.record(
        {
          actor: actorName(user),
          action: 'connection.update',
          target: `connection:${row.name}`,
          details: { ...auditDetails(row), changed, credentialChanged: input.credential !== undefined },
        },
        tx,
      );
      return row;
    });
    return view(row);
  }

  async delete(idOrName: string, user: AuthenticatedUser): Promise<void> {
    const current = await this.find(idOrName);
    await this.changes.apply(async (tx) => {
      await this.repository.delete(tx, current.id);
      await this.audit.record(
        { actor: actorName(user), action: 'connection.delete', target: `connection:${current.name}`, details: { id: current.id } },
        tx,
      );
    });
  }

  /**
   * One agent that serves the connection opens its upstream now and reports what it answered.
   * Every attempt is audited, with the agent's answer minus any free text (codes only).
   */
  async test(idOrName: string, user: AuthenticatedUser): Promise<ConnectionTestResult> {
    const connection = await this.find(idOrName);
    const testedAt = new Date();
    const run = await this.tests.run(connection);
    await this.audit.record({
      actor: actorName(user),
      action: 'connection.test',
      target: `connection:${connection.name}`,
      outcome: run.kind !== 'answered' ? 'error' : run.result.ok ? 'ok' : 'failed',
      details: testAuditDetails(run),
    });
    if (run.kind === 'no-agent') {
      throw new ServiceUnavailableException(
        `no online agent serves connection "${connection.name}" (network labels: ${connection.networkLabels.join(', ')})`,
      );
    }
    if (run.kind === 'not-sent') {
      throw new ServiceUnavailableException(
        `agent ${run.agent.name} could not be reached from this control plane to test "${connection.name}"; try again`,
      );
    }
    if (run.kind === 'no-answer') {
      throw new GatewayTimeoutException(
        `agent ${run.agent.name} was asked to test "${connection.name}" but it did not answer within ${CONNECTION_TEST_WAIT_MS / 1000} s`,
      );
    }
    const { result, agent } = run;
    return {
      connection: connection.name,
      agent,
      ok: result.ok,
      latencyMs: result.latencyMs,
      detail: result.detail,
      error: result.ok
        ? null
        : { message: result.errorMessage || 'the upstream did not answer', code: result.errorCode || null },
      testedAt: testedAt.toISOString(),
    };
  }

  private async find(idOrName: string): Promise<ConnectionRow> {
    const row = await this.repository.findByIdOrName(idOrName);
    if (!row) throw new NotFoundException(`connection "${idOrName}" does not exist`);
    return row;
  }

  private credentialColumns(credential: CredentialInput | null | undefined): { secretRef: string | null; secretSealed: string | null } {
    if (!credential) return { secretRef: null, secretSealed: null };
    if ('secretRef' in credential) return { secretRef: credential.secretRef, secretSealed: null };
    try {
      return { secretRef: null, secretSealed: this.secrets.seal(credential.value) };
    } catch (error) {
      if (error instanceof SecretKeyMissingError) throw new BadRequestException(`credential.value: ${error.message}`);
      throw error;
    }
  }

  private async uniqueName<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException(`connection "${name}" already exists`);
      throw error;
    }
  }
}

/** An update may change kind or target alone; the resulting pair must still be valid. */
function checkKindAndTarget(kind: ConnectionKind, target: string): void {
  const issues = targetProblems(kind, target).map((message) => ({ path: 'target', message }));
  if (issues.length) {
    throw new BadRequestException({ message: issues.map((i) => `target: ${i.message}`).join('; '), issues });
  }
}

function credentialView(row: ConnectionRow): ConnectionView['credential'] {
  if (row.secretRef) return { type: 'secretRef', ref: row.secretRef };
  if (row.secretSealed) return { type: 'value', set: true };
  return null;
}

function view(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ConnectionKind,
    target: row.target,
    networkLabels: row.networkLabels,
    credential: credentialView(row),
    options: row.options as Record<string, unknown>,
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function testAuditDetails(run: ConnectionTestRun): Prisma.InputJsonObject {
  if (run.kind === 'no-agent') return { agent: null };
  if (run.kind === 'no-answer' || run.kind === 'not-sent') return { agent: run.agent.name, answered: false, sent: run.kind === 'no-answer' };
  return {
    agent: run.agent.name,
    answered: true,
    ok: run.result.ok,
    latencyMs: run.result.latencyMs,
    errorCode: run.result.errorCode || null,
  };
}

/** What the audit trail keeps of a connection: the credential's kind, never its value. */
function auditDetails(row: ConnectionRow): Prisma.InputJsonObject {
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    networkLabels: row.networkLabels,
    credential: credentialView(row)?.type ?? null,
  };
}
