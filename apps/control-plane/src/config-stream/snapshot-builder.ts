import { Injectable, Logger } from '@nestjs/common';
import type { ConfigSnapshot, Connection as SnapshotConnection, Credential } from '@portcullis/proto';
import { AppConfig } from '../config/app-config.js';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import { SecretBox } from '../common/secret-box.js';
import type { Connection } from '../generated/prisma/client.js';
import { DEFAULT_POLICY, maskingHashKey } from '../policies/default-policy.js';

/** Tokens may be a little early or late by the agent's clock. */
const CLOCK_SKEW_SECONDS = 30;

/**
 * The full desired state for one agent, read in one repeatable-read transaction so that the
 * version names exactly the data that goes with it.
 */
@Injectable()
export class SnapshotBuilder {
  private readonly log = new Logger(SnapshotBuilder.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly secrets: SecretBox,
    private readonly config: AppConfig,
  ) {}

  /** The version the next snapshot will carry. */
  currentVersion(): Promise<number> {
    return currentVersion(this.prisma);
  }

  /** Null when no snapshot is due to this agent any more (deleted or revoked): fail closed. */
  async build(agentId: string): Promise<ConfigSnapshot | null> {
    const now = new Date();
    const read = await this.prisma.$transaction(
      async (tx) => {
        const agent = await tx.agent.findUnique({ where: { id: agentId }, select: { labels: true, revokedAt: true } });
        if (!agent || agent.revokedAt) return null;
        const version = await currentVersion(tx);
        const connections = await tx.connection.findMany({
          where: { networkLabels: { hasSome: agent.labels } },
          orderBy: { name: 'asc' },
        });
        const grants = await tx.grant.findMany({
          where: {
            connectionId: { in: connections.map((c) => c.id) },
            OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
          },
          orderBy: { createdAt: 'asc' },
        });
        const disabled = await tx.identity.findMany({
          where: { disabledAt: { not: null } },
          select: { subject: true, username: true, disableReason: true },
          orderBy: { subject: 'asc' },
        });
        const policy = await tx.policyVersion.findFirst({ orderBy: { version: 'desc' } });
        return { version, connections, grants, disabled, policy };
      },
      { isolationLevel: 'RepeatableRead' },
    );
    if (!read) return null;

    const connections = read.connections.flatMap((c) => {
      const credential = this.credential(c);
      return credential === null ? [] : [toSnapshotConnection(c, credential)];
    });
    const served = new Set(connections.map((c) => c.id));
    return {
      version: read.version,
      connections,
      grants: read.grants
        .filter((g) => served.has(g.connectionId))
        .map((g) => ({
          id: g.id,
          connectionId: g.connectionId,
          group: g.group ?? '',
          subject: g.subject ?? '',
          expiresAt: g.expiresAt ?? undefined,
        })),
      identity: {
        issuer: this.config.issuer,
        audiences: [this.config.audience],
        jwksUri: `${this.config.issuer}/protocol/openid-connect/certs`,
        clockSkewSeconds: CLOCK_SKEW_SECONDS,
      },
      disabledIdentities: read.disabled.map((i) => ({
        subject: i.subject,
        username: i.username ?? '',
        reason: i.disableReason ?? '',
      })),
      generatedAt: now,
      // The newest saved version, else the built-in default (version 0).
      policy: {
        version: read.policy?.version ?? 0,
        document: (read.policy?.document ?? DEFAULT_POLICY) as Record<string, unknown>,
        hashKey: maskingHashKey(this.config.secretKey),
      },
    };
  }

  /**
   * Undefined: the connection needs no credential. Null: its sealed secret cannot be opened
   * (wrong or rotated PORTCULLIS_SECRET_KEY); the connection is left out rather than sent without
   * its credential, and the reason is logged without the secret.
   */
  private credential(c: Connection): Credential | undefined | null {
    if (c.secretRef) return { source: { $case: 'secretRef', value: c.secretRef } };
    if (!c.secretSealed) return undefined;
    try {
      return { source: { $case: 'value', value: this.secrets.open(c.secretSealed) } };
    } catch (err) {
      this.log.error(
        `connection ${c.name} left out of snapshots: its secret cannot be opened (${(err as Error).message})`,
      );
      return null;
    }
  }
}

async function currentVersion(db: Tx): Promise<number> {
  const state = await db.configState.findUnique({ where: { id: 1 }, select: { version: true } });
  // No row yet means nothing was ever changed: the column default.
  return Number(state?.version ?? 1n);
}

function toSnapshotConnection(c: Connection, credential: Credential | undefined): SnapshotConnection {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    target: c.target,
    credential,
    networkLabels: c.networkLabels,
    options: isPlainObject(c.options) ? c.options : {},
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
