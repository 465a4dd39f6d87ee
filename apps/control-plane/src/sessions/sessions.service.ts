import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { EventPage, EventView, SessionEventQuery, SessionPage, SessionQuery, SessionView } from '@portcullis/api';
import { PrismaService } from '../db/prisma.service.js';
import type { Event, Prisma, Session } from '../generated/prisma/client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Recorded sessions and their events, newest sessions first, events in recording order. */
@Injectable()
export class SessionsService {
  constructor(private readonly prisma: PrismaService) {}

  async list(q: SessionQuery): Promise<SessionPage> {
    const where: Prisma.SessionWhereInput[] = [];
    if (q.subject) where.push({ subject: q.subject });
    if (q.username) where.push({ username: q.username });
    if (q.connection) where.push({ connection: q.connection });
    if (q.agent) where.push(UUID.test(q.agent) ? { agentId: q.agent } : { agent: { name: q.agent } });
    if (q.from) where.push({ startedAt: { gte: new Date(q.from) } });
    if (q.to) where.push({ startedAt: { lt: new Date(q.to) } });
    if (q.outcome) where.push({ outcome: q.outcome });
    if (q.cursor) {
      const after = decodeSessionCursor(q.cursor);
      where.push({
        OR: [{ startedAt: { lt: after.startedAt } }, { startedAt: after.startedAt, id: { lt: after.id } }],
      });
    }
    const rows = await this.prisma.session.findMany({
      where: { AND: where },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: q.limit + 1,
      include: { agent: { select: { name: true } } },
    });
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return {
      items: items.map(toSessionView),
      nextCursor: rows.length > q.limit && last ? encodeSessionCursor(last) : null,
    };
  }

  async get(id: string): Promise<SessionView> {
    const row = UUID.test(id)
      ? await this.prisma.session.findUnique({ where: { id }, include: { agent: { select: { name: true } } } })
      : null;
    if (!row) throw new NotFoundException(`session ${id} not found`);
    return toSessionView(row);
  }

  async events(id: string, q: SessionEventQuery): Promise<EventPage> {
    const session = UUID.test(id)
      ? await this.prisma.session.findUnique({ where: { id }, select: { agentId: true } })
      : null;
    if (!session) throw new NotFoundException(`session ${id} not found`);
    const rows = await this.prisma.event.findMany({
      where: {
        sessionId: id,
        agentId: session.agentId,
        ...(q.after === undefined ? {} : { seq: { gt: BigInt(q.after) } }),
      },
      orderBy: { seq: 'asc' },
      take: q.limit + 1,
    });
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return {
      items: items.map(toEventView),
      nextCursor: rows.length > q.limit && last ? last.seq.toString() : null,
    };
  }
}

function toSessionView(s: Session & { agent: { name: string } }): SessionView {
  return {
    id: s.id,
    agentId: s.agentId,
    agentName: s.agent.name,
    subject: s.subject,
    username: s.username,
    groups: s.groups,
    connection: s.connection,
    protocol: s.protocol,
    clientAddress: s.clientAddress,
    applicationName: s.applicationName,
    traceId: s.traceId,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt?.toISOString() ?? null,
    outcome: s.outcome,
    error: s.error,
    // Byte counts and seqs stay far below 2^53; Number() keeps JSON plain for every client.
    bytesFromClient: Number(s.bytesFromClient),
    bytesToClient: Number(s.bytesToClient),
    statementCount: s.statementCount,
  };
}

function toEventView(e: Event): EventView {
  return {
    seq: Number(e.seq),
    sessionId: e.sessionId,
    time: e.time.toISOString(),
    type: e.type as EventView['type'],
    statementIndex: e.statementIndex === null ? null : Number(e.statementIndex),
    kind: e.kind,
    text: e.text,
    traceId: e.traceId,
    action: e.action,
    data: (e.data ?? {}) as Record<string, unknown>,
  };
}

function encodeSessionCursor(s: Session): string {
  return Buffer.from(JSON.stringify([s.startedAt.toISOString(), s.id])).toString('base64url');
}

function decodeSessionCursor(cursor: string): { startedAt: Date; id: string } {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const time = typeof startedAt === 'string' ? new Date(startedAt) : undefined;
    if (time && !Number.isNaN(time.getTime()) && typeof id === 'string' && UUID.test(id))
      return { startedAt: time, id };
  } catch {
    // falls through to the same answer as any other malformed cursor
  }
  throw new BadRequestException('cursor is not valid; pass back nextCursor from the previous page');
}
