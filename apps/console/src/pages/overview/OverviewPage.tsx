import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import type { SessionView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import { BarChart, Donut, HBarList } from '../../components/charts.js';
import { Badge, Card, decisionTone, EmptyState, ErrorNotice, Loading, PageHeader, Stat } from '../../components/ui.js';
import { bucketByTime } from '../../lib/buckets.js';
import { formatClock, formatDuration, relativeTime } from '../../lib/format.js';

const HOUR = 3_600_000;

export function OverviewPage() {
  const api = useApi();
  const user = useUser();
  const navigate = useNavigate();
  const seesSessions = can(user, 'viewRecordings');
  // The window moves with each refetch; 2 s keeps a new session visible within the promised 2 s.
  const agents = useQuery({ queryKey: ['agents'], queryFn: api.agents.list, refetchInterval: 5_000 });
  const sessions = useQuery({
    queryKey: ['sessions', 'last-hour'],
    queryFn: () => api.sessions.list({ from: new Date(Date.now() - HOUR).toISOString(), limit: 500 }),
    refetchInterval: 2_000,
    enabled: seesSessions,
  });
  const stats = useQuery({ queryKey: ['overview-stats'], queryFn: api.overview.stats, refetchInterval: 10_000 });

  const agentItems = agents.data?.items ?? [];
  const counts = { online: 0, offline: 0, revoked: 0 };
  for (const a of agentItems) counts[a.status]++;
  const sessionItems = sessions.data?.items ?? [];
  const live = sessionItems.filter((s) => s.endedAt === null);
  const now = Date.now();

  return (
    <div className="page">
      <PageHeader title="Overview" description="The data path right now and over the last hour." />

      <div className="grid grid-4">
        <Stat
          label="Agents online"
          value={agents.data ? counts.online : '…'}
          tone={counts.online > 0 ? 'good' : undefined}
          hint={`${counts.offline} offline`}
        />
        <Stat label="Live sessions" value={seesSessions ? (sessions.data ? live.length : '…') : '—'} />
        <Stat label="Requests, last hour" value={stats.data ? stats.data.requests : '—'} />
        <Stat
          label="Blocked, last hour"
          value={stats.data ? stats.data.blocked : '—'}
          tone={stats.data?.blocked ? 'bad' : undefined}
          hint={stats.data ? `${stats.data.refusedTokens} refused tokens` : undefined}
        />
      </div>

      <div className="grid grid-3">
        <Card title="Agents" actions={<Link to="/agents">All agents</Link>}>
          {agents.error ? (
            <ErrorNotice error={agents.error} what="load agents" />
          ) : !agents.data ? (
            <Loading />
          ) : agentItems.length === 0 ? (
            <EmptyState title="No agents yet">Register an agent in each private network that holds data.</EmptyState>
          ) : (
            <Donut
              label="Agents by status"
              segments={[
                { label: 'online', value: counts.online, className: 'tone-good' },
                { label: 'offline', value: counts.offline, className: 'tone-muted' },
                { label: 'revoked', value: counts.revoked, className: 'tone-bad' },
              ]}
            />
          )}
        </Card>
        <Card title="Sessions started, last hour" className="span-2">
          {!seesSessions ? (
            <p className="muted">Sessions are visible to admins and auditors.</p>
          ) : sessions.error ? (
            <ErrorNotice error={sessions.error} what="load sessions" />
          ) : !sessions.data ? (
            <Loading />
          ) : (
            <BarChart
              label="Sessions started per 5 minutes"
              bars={bucketByTime(
                sessionItems,
                (s) => s.startedAt,
                () => 1,
                now - HOUR,
                now,
                12,
              )}
              formatX={formatClock}
            />
          )}
        </Card>
      </div>

      <div className="grid grid-3">
        <Card title="Masked values by entity, last hour">
          {stats.error ? (
            <ErrorNotice
              error={stats.error}
              what="load the request, block and masking counters"
              unavailable="Request, block and masking counters need GET /overview."
            />
          ) : !stats.data ? (
            <Loading />
          ) : Object.keys(stats.data.maskedByEntity).length === 0 ? (
            <EmptyState title="Nothing masked in the last hour">
              Masking rules are written on the Policies page.
            </EmptyState>
          ) : (
            <HBarList
              items={Object.entries(stats.data.maskedByEntity)
                .map(([label, value]) => ({ label, value }))
                .sort((a, b) => b.value - a.value)}
            />
          )}
        </Card>
        <Card
          title="Recent sessions"
          className="span-2"
          actions={seesSessions && <Link to="/sessions">All sessions</Link>}
        >
          {!seesSessions ? (
            <p className="muted">Sessions are visible to admins and auditors.</p>
          ) : sessions.error ? null : !sessions.data ? (
            <Loading />
          ) : (
            <DataTable<SessionView>
              rows={sessionItems.slice(0, 8)}
              rowKey={(s) => s.id}
              onRowClick={(s) => void navigate(`/sessions/${s.id}`)}
              empty={
                <EmptyState title="No sessions in the last hour">
                  Sessions appear here when someone connects through an agent, e.g.{' '}
                  <code>portcullis run demo-pg -- psql</code>.
                </EmptyState>
              }
              columns={[
                { header: 'Started', cell: (s) => relativeTime(s.startedAt), width: '7rem' },
                { header: 'Identity', cell: (s) => s.username ?? s.subject },
                { header: 'Connection', cell: (s) => s.connection },
                { header: 'Statements', cell: (s) => s.statementCount, align: 'right' },
                {
                  header: 'Status',
                  cell: (s) =>
                    s.endedAt === null ? (
                      <Badge tone="info">live</Badge>
                    ) : (
                      <Badge tone={decisionTone(s.outcome)}>{s.outcome ?? 'ended'}</Badge>
                    ),
                },
                {
                  header: 'Duration',
                  align: 'right',
                  cell: (s) => formatDuration((s.endedAt ? Date.parse(s.endedAt) : now) - Date.parse(s.startedAt)),
                },
              ]}
            />
          )}
        </Card>
      </div>
    </div>
  );
}
