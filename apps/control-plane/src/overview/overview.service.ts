import { Injectable } from '@nestjs/common';
import type { OverviewQuery, OverviewStats } from '@portcullis/api';
import { PrismaService } from '../db/prisma.service.js';

const WINDOW_MS: Record<OverviewQuery['window'], number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 };

/** Counters for the console's overview, computed from recordings (the source of truth). */
@Injectable()
export class OverviewService {
  constructor(private readonly prisma: PrismaService) {}

  async stats(query: OverviewQuery, now = new Date()): Promise<OverviewStats> {
    const since = new Date(now.getTime() - WINDOW_MS[query.window]);
    const [counts, masked, sessions] = await Promise.all([
      this.prisma.$queryRaw<Array<{ requests: bigint; blocked: bigint; masked: bigint }>>`
        SELECT count(*) AS requests,
               count(*) FILTER (WHERE action = 'block') AS blocked,
               count(*) FILTER (WHERE action = 'mask') AS masked
          FROM events WHERE type = 'statement' AND time >= ${since}`,
      this.prisma.$queryRaw<Array<{ entity: string; n: bigint }>>`
        SELECT m.key AS entity, sum(m.value::bigint) AS n
          FROM events, jsonb_each_text(data->'statement'->'decision'->'maskedCounts') AS m
         WHERE type = 'statement' AND time >= ${since}
         GROUP BY m.key`,
      this.prisma.$queryRaw<Array<{ refused: bigint; live: bigint }>>`
        SELECT count(*) FILTER (WHERE outcome = 'refused' AND started_at >= ${since}) AS refused,
               count(*) FILTER (WHERE ended_at IS NULL) AS live
          FROM sessions`,
    ]);
    return {
      window: query.window,
      since: since.toISOString(),
      requests: Number(counts[0]?.requests ?? 0),
      blocked: Number(counts[0]?.blocked ?? 0),
      masked: Number(counts[0]?.masked ?? 0),
      refusedTokens: Number(sessions[0]?.refused ?? 0),
      maskedByEntity: Object.fromEntries(masked.map((m) => [m.entity, Number(m.n)])),
      liveSessions: Number(sessions[0]?.live ?? 0),
    };
  }
}
