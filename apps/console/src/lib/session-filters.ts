import type { SessionQuery } from '@portcullis/api';

export const SESSION_FILTERS = ['identity', 'connection', 'agent', 'outcome', 'from', 'to'] as const;
export type SessionFilters = Record<(typeof SESSION_FILTERS)[number], string>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The URL's filters as a SessionQuery: an identity that is a UUID is a subject, otherwise a username. */
export function sessionQuery(f: SessionFilters): Partial<SessionQuery> {
  const identity = f.identity.trim();
  return {
    ...(identity ? (UUID.test(identity) ? { subject: identity } : { username: identity }) : {}),
    connection: f.connection.trim() || undefined,
    agent: f.agent.trim() || undefined,
    outcome: f.outcome.trim() || undefined,
    from: f.from || undefined,
    to: f.to || undefined,
  };
}
