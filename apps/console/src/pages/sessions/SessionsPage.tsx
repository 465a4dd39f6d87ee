import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { SessionView } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { FilterBar, type FilterInput } from '../../components/FilterBar.js';
import { PagedTable, usePagedQuery } from '../../components/PagedTable.js';
import { Badge, decisionTone, EmptyState, PageHeader } from '../../components/ui.js';
import { formatBytes, formatDateTime, formatDuration, relativeTime } from '../../lib/format.js';
import { SESSION_FILTERS, sessionQuery } from '../../lib/session-filters.js';
import { useUrlFilters } from '../../components/use-url-filters.js';

const FILTER_INPUTS: FilterInput<(typeof SESSION_FILTERS)[number]>[] = [
  { key: 'identity', label: 'Identity', placeholder: 'username or subject' },
  { key: 'connection', label: 'Connection', placeholder: 'demo-pg' },
  { key: 'agent', label: 'Agent' },
  { key: 'outcome', label: 'Outcome', placeholder: 'closed, refused…' },
  { key: 'from', label: 'From', instant: true },
  { key: 'to', label: 'To', instant: true },
];

export function SessionsPage() {
  const api = useApi();
  const navigate = useNavigate();
  const filters = useUrlFilters(SESSION_FILTERS);
  const filtered = filters.active;
  const [trace, setTrace] = useState('');
  const query = sessionQuery(filters.filters);
  // New sessions show up within 2 s while the first page is what is on screen: fetched again every
  // second, which leaves the other second for the recording to reach the control plane.
  const sessions = usePagedQuery(
    ['sessions', 'search', query],
    (cursor) => api.sessions.list({ ...query, limit: 50, cursor }),
    { refreshMs: 1_000 },
  );

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
      <FilterBar filters={filters} inputs={FILTER_INPUTS} submitLabel="Search" />
      <PagedTable<SessionView>
        pages={sessions}
        what="search sessions"
        moreLabel="Load older sessions"
        rowKey={(s) => s.id}
        onRowClick={(s) => void navigate(`/sessions/${s.id}`)}
        empty={
          <EmptyState title={filtered ? 'No session matches these filters' : 'No sessions recorded yet'}>
            {filtered
              ? 'Widen the time range or clear a filter.'
              : 'Sessions are recorded when a client connects through an agent, e.g. portcullis run demo-pg -- psql.'}
          </EmptyState>
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
    </div>
  );
}
