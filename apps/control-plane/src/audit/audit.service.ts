import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AuditPage, AuditQuery } from '@portcullis/api';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import type { Prisma } from '../generated/prisma/client.js';
import { AuditRepository } from './audit.repository.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  actor: string;
  action: string;
  target?: string | null;
  details?: Prisma.InputJsonObject;
  outcome?: string;
}

/**
 * The append-only audit trail. Each entry's hash = sha256(previous hash + canonical JSON of the
 * entry), so removing or editing an entry breaks every hash after it. Callers pass their
 * transaction so the entry commits with the change it describes, or not at all.
 * Details must never carry secrets (credential values, tokens).
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repository: AuditRepository,
  ) {}

  async record(entry: AuditRecord, tx?: Tx): Promise<void> {
    if (!tx) return this.prisma.$transaction((own) => this.record(entry, own));
    const prevHash = (await this.repository.lockAndReadLastHash(tx)) ?? GENESIS_HASH;
    const body = {
      time: new Date(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome ?? 'ok',
      details: entry.details ?? {},
    };
    await this.repository.append(tx, { ...body, prevHash, hash: entryHash(prevHash, body) });
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const rows = await this.repository.list(query);
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((row) => ({
        id: row.id.toString(),
        time: row.time.toISOString(),
        actor: row.actor,
        action: row.action,
        target: row.target,
        outcome: row.outcome,
        details: row.details as Record<string, unknown>,
        prevHash: row.prevHash,
        hash: row.hash,
      })),
      nextCursor: rows.length > query.limit ? (page.at(-1)?.id.toString() ?? null) : null,
    };
  }
}

/** Exported so a verifier (or a test) can recompute the chain from stored rows. */
export function entryHash(
  prevHash: string,
  entry: { time: Date; actor: string; action: string; target: string | null; outcome: string; details: unknown },
): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(entry)).digest('hex');
}
