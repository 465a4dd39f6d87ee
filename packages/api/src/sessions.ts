import { z } from 'zod';

/** Opaque paging cursor: pass back `nextCursor` to get the following page. */
const Cursor = z.string().min(1).max(200);

const Timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-25T10:00:00Z' });

export const SessionOutcome = z.string().min(1).max(64);

export const SessionQuery = z
  .strictObject({
    subject: z.string().min(1).max(256).optional(),
    username: z.string().min(1).max(256).optional(),
    /** Connection name. */
    connection: z.string().min(1).max(63).optional(),
    /** Agent name or id. */
    agent: z.string().min(1).max(63).optional(),
    /** Sessions started at or after this time. */
    from: Timestamp.optional(),
    /** Sessions started before this time. */
    to: Timestamp.optional(),
    outcome: SessionOutcome.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: Cursor.optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    path: ['to'],
    message: 'must be later than from',
  });
export type SessionQuery = z.infer<typeof SessionQuery>;

export const SessionView = z.object({
  id: z.string(),
  agentId: z.string(),
  agentName: z.string(),
  subject: z.string(),
  username: z.string().nullable(),
  groups: z.array(z.string()),
  connection: z.string(),
  protocol: z.string(),
  clientAddress: z.string().nullable(),
  applicationName: z.string().nullable(),
  traceId: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  outcome: z.string().nullable(),
  error: z.string().nullable(),
  bytesFromClient: z.number(),
  bytesToClient: z.number(),
  statementCount: z.number(),
});
export type SessionView = z.infer<typeof SessionView>;

export const SessionPage = z.object({ items: z.array(SessionView), nextCursor: z.string().nullable() });
export type SessionPage = z.infer<typeof SessionPage>;

export const SessionEventQuery = z.strictObject({
  /** Events with a larger seq than this (the previous page's nextCursor). */
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type SessionEventQuery = z.infer<typeof SessionEventQuery>;

export const EventType = z.enum(['session_start', 'statement', 'session_end']);

export const EventView = z.object({
  /** Per-agent recording sequence number; events of one session come from one agent. */
  seq: z.number(),
  sessionId: z.string(),
  time: z.string(),
  type: EventType,
  statementIndex: z.number().nullable(),
  kind: z.string().nullable(),
  text: z.string().nullable(),
  traceId: z.string().nullable(),
  /** Policy decision: allow | mask | block | review. */
  action: z.string().nullable(),
  /** The whole recorded event (statement, decision, masked result preview), as the agent sent it. */
  data: z.record(z.string(), z.unknown()),
});
export type EventView = z.infer<typeof EventView>;

export const EventPage = z.object({ items: z.array(EventView), nextCursor: z.string().nullable() });
export type EventPage = z.infer<typeof EventPage>;
