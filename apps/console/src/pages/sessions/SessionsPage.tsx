import { useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import type { SessionView } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, decisionTone, EmptyState, ErrorNotice, Field, Loading, PageHeader } from '../../components/ui.js';
import { formatBytes, formatDateTime, formatDuration, relativeTime } from '../../lib/format.js';
import { fromLocalInput, toLocalInput } from '../../lib/datetime.js';
import { SESSION_FILTERS, sessionQuery } from '../../lib/session-filters.js';
import { useUrlFilters } from '../../components/use-url-filters.js';

export function SessionsPage() {
  const api = useApi();
  const navigate = useNavigate();
  const { filters, draft, edit, apply, clear, active: filtered } = useUrlFilters(SESSION_FILTERS);
  const [trace, setTrace] = useState('');
  const query = sessionQuery(filters);

  const sessions = useInfiniteQuery({
    queryKey: ['sessions', 'search', query],
    queryFn: ({ pageParam }) => api.sessions.list({ ...query, limit: 50, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    // New sessions show up within 2 s while the first page is what is on screen.
    refetchInterval: (q) => ((q.state.data?.pages.length ?? 0) <= 1 ? 2_000 : false),
  });
  const rows = sessions.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="page">
      <PageHeader
        title="Sessions"
        description="Every connection made through an agent, with each statement or request it carried."
        actions={
          <form
            className="trace-lookup"
            onSubmit={(e) => {
              e.preventDefault();
              if (trace.trim()) void navigate(`/traces/${encodeURIComponent(trace.trim())}`);
            }}
          >
            <input
              type="search"
              placeholder="Open a trace id"
              value={trace}
              onChange={(e) => setTrace(e.target.value)}
            />
          </form>
        }
      />
      <form className="filters" onSubmit={apply}>
        <Field label="Identity">
          <input
            value={draft.identity}
            onChange={(e) => edit('identity', e.target.value)}
            placeholder="username or subject"
          />
        </Field>
        <Field label="Connection">
          <input value={draft.connection} onChange={(e) => edit('connection', e.target.value)} placeholder="demo-pg" />
        </Field>
        <Field label="Agent">
          <input value={draft.agent} onChange={(e) => edit('agent', e.target.value)} />
        </Field>
        <Field label="Outcome">
          <input
            value={draft.outcome}
            onChange={(e) => edit('outcome', e.target.value)}
            placeholder="closed, refused…"
          />
        </Field>
        <Field label="From">
          <input
            type="datetime-local"
            value={toLocalInput(draft.from)}
            onChange={(e) => edit('from', fromLocalInput(e.target.value))}
          />
        </Field>
        <Field label="To">
          <input
            type="datetime-local"
            value={toLocalInput(draft.to)}
            onChange={(e) => edit('to', fromLocalInput(e.target.value))}
          />
        </Field>
        <div className="filters-actions">
          <button type="submit" className="button button-primary">
            Search
          </button>
          {filtered && (
            <button type="button" className="button" onClick={clear}>
              Clear
            </button>
          )}
        </div>
      </form>

      {sessions.error ? (
        <ErrorNotice error={sessions.error} what="search sessions" onRetry={() => void sessions.refetch()} />
      ) : !sessions.data ? (
        <Loading />
      ) : (
        <DataTable<SessionView>
          rows={rows}
          rowKey={(s) => s.id}
          onRowClick={(s) => void navigate(`/sessions/${s.id}`)}
          empty={
            <EmptyState title={filtered ? 'No session matches these filters' : 'No sessions recorded yet'}>
              {filtered
                ? 'Widen the time range or clear a filter.'
                : 'Sessions are recorded when a client connects through an agent, e.g. portcullis run demo-pg -- psql.'}
            </EmptyState>
          }
          footer={
            sessions.hasNextPage && (
              <button
                type="button"
                className="button"
                onClick={() => void sessions.fetchNextPage()}
                disabled={sessions.isFetchingNextPage}
              >
                {sessions.isFetchingNextPage ? 'Loading…' : 'Load older sessions'}
              </button>
            )
          }
          columns={[
            {
              header: 'Started',
              cell: (s) => <span title={formatDateTime(s.startedAt)}>{relativeTime(s.startedAt)}</span>,
              width: '8rem',
            },
            {
              header: 'Identity',
              cell: (s) => (
                <div>
                  {s.username ?? s.subject}
                  {s.groups.length > 0 && <div className="muted small">{s.groups.join(', ')}</div>}
                </div>
              ),
            },
            { header: 'Connection', cell: (s) => s.connection },
            { header: 'Agent', cell: (s) => <span className="muted">{s.agentName}</span> },
            {
              header: 'Client',
              cell: (s) => <span className="muted small">{s.applicationName || s.clientAddress || '—'}</span>,
            },
            { header: 'Statements', cell: (s) => s.statementCount, align: 'right' },
            {
              header: 'Traffic',
              cell: (s) => <span className="muted small">{formatBytes(s.bytesToClient)}</span>,
              align: 'right',
            },
            {
              header: 'Duration',
              align: 'right',
              cell: (s) => (s.endedAt ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : '—'),
            },
            {
              header: 'Outcome',
              cell: (s) =>
                s.endedAt === null ? (
                  <Badge tone="info">live</Badge>
                ) : (
                  <Badge tone={decisionTone(s.outcome)} title={s.error ?? undefined}>
                    {s.outcome ?? 'ended'}
                  </Badge>
                ),
            },
          ]}
        />
      )}
    </div>
  );
}
