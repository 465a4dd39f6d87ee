import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service.js';

const TRACE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** One trace: every session that carried the id (PostgreSQL and HTTP alike) and their events. */
export interface TraceView {
  id: string;
  sessions: Array<{
    id: string;
    agentId: string;
    subject: string;
    username: string | null;
    connection: string;
    protocol: string;
    startedAt: string;
    endedAt: string | null;
    outcome: string | null;
  }>;
  events: Array<{
    sessionId: string;
    seq: number;
    time: string;
    type: string;
    connection: string;
    protocol: string;
    kind: string | null;
    text: string | null;
    action: string | null;
    traceId: string | null;
    data: Record<string, unknown>;
  }>;
}

const MAX_EVENTS = 5000;

/**
 * Correlates sessions across protocols by trace id. A session belongs to the trace when it was
 * opened with the id (sessions.trace_id) or when one of its statements carried it (HTTP requests
 * name their trace per request). Events are those of the trace's sessions, ordered by time, then
 * by recording order.
 */
@Injectable()
export class TracesService {
  constructor(private readonly prisma: PrismaService) {}

  async get(id: string): Promise<TraceView> {
    if (!TRACE_ID.test(id)) throw new BadRequestException('trace id must be 1-128 letters, digits or ._:-');
    const traceId = id;
    const tagged = await this.prisma.event.findMany({
      where: { traceId },
      select: { sessionId: true },
      distinct: ['sessionId'],
    });
    const sessions = await this.prisma.session.findMany({
      where: { OR: [{ traceId }, { id: { in: tagged.map((t) => t.sessionId) } }] },
      orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    });
    if (sessions.length === 0) throw new NotFoundException(`trace ${id} not found`);
    const byId = new Map(sessions.map((s) => [s.id, s]));
    // An HTTP session may serve several traces: keep its events of this trace (plus its
    // start/end); a PostgreSQL session opened with the trace id contributes all its events.
    const rows = await this.prisma.event.findMany({
      where: {
        OR: sessions.map((s) =>
          s.traceId === traceId
            ? { sessionId: s.id, agentId: s.agentId }
            : { sessionId: s.id, agentId: s.agentId, OR: [{ traceId }, { type: { in: ['session_start', 'session_end'] } }] },
        ),
      },
      orderBy: [{ time: 'asc' }, { seq: 'asc' }],
      take: MAX_EVENTS,
    });
    return {
      id: traceId,
      sessions: sessions.map((s) => ({
        id: s.id,
        agentId: s.agentId,
        subject: s.subject,
        username: s.username,
        connection: s.connection,
        protocol: s.protocol,
        startedAt: s.startedAt.toISOString(),
        endedAt: s.endedAt?.toISOString() ?? null,
        outcome: s.outcome,
      })),
      events: rows.map((e) => {
        const session = byId.get(e.sessionId)!;
        return {
          sessionId: e.sessionId,
          seq: Number(e.seq),
          time: e.time.toISOString(),
          type: e.type,
          connection: session.connection,
          protocol: session.protocol,
          kind: e.kind,
          text: e.text,
          action: e.action,
          traceId: e.traceId,
          data: (e.data ?? {}) as Record<string, unknown>,
        };
      }),
    };
  }
}
