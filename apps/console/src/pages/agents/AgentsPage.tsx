import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AgentView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, EmptyState, ErrorNotice, Labels, Loading, PageHeader, type Tone } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';
import { RegisterAgentDialog } from './RegisterAgentDialog.js';

const STATUS_TONE: Record<AgentView['status'], Tone> = { online: 'good', offline: 'neutral', revoked: 'bad' };

export function AgentsPage() {
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const queryClient = useQueryClient();
  const [registering, setRegistering] = useState(false);
  const agents = useQuery({ queryKey: ['agents'], queryFn: api.agents.list, refetchInterval: 5_000 });
  const revoke = useMutation({
    mutationFn: (a: AgentView) => api.agents.revoke(a.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['agents'] }),
  });

  return (
    <div className="page">
      <PageHeader
        title="Agents"
        description="Agents run inside each private network, dial out to the control plane and serve the connections of their labels."
        actions={
          admin && (
            <button type="button" className="button button-primary" onClick={() => setRegistering(true)}>
              Register agent
            </button>
          )
        }
      />
      {revoke.error && <ErrorNotice error={revoke.error} what="revoke the agent" />}
      {agents.error ? (
        <ErrorNotice error={agents.error} what="load agents" onRetry={() => void agents.refetch()} />
      ) : !agents.data ? (
        <Loading />
      ) : (
        <DataTable<AgentView>
          rows={agents.data.items}
          rowKey={(a) => a.id}
          empty={
            <EmptyState
              title="No agents registered"
              action={
                admin && (
                  <button type="button" className="button button-primary" onClick={() => setRegistering(true)}>
                    Register the first agent
                  </button>
                )
              }
            >
              Register an agent, then start it in the network that holds your databases with the token it gets.
            </EmptyState>
          }
          columns={[
            {
              header: 'Name',
              cell: (a) => (
                <div>
                  <strong>{a.name}</strong>
                  {a.hostname && <div className="muted small">{a.hostname}</div>}
                </div>
              ),
            },
            { header: 'Status', cell: (a) => <Badge tone={STATUS_TONE[a.status]}>{a.status}</Badge>, width: '7rem' },
            { header: 'Labels', cell: (a) => <Labels labels={a.labels} /> },
            { header: 'Version', cell: (a) => a.version ?? <span className="muted">—</span> },
            {
              header: 'Config',
              cell: (a) =>
                a.configError ? (
                  <Badge tone="bad" title={a.configError}>
                    v{a.configVersionAcked} · rejected newer
                  </Badge>
                ) : (
                  <span>v{a.configVersionAcked}</span>
                ),
            },
            { header: 'Live sessions', cell: (a) => a.liveSessions, align: 'right' },
            {
              header: 'Last seen',
              cell: (a) => <span title={formatDateTime(a.lastSeenAt)}>{relativeTime(a.lastSeenAt)}</span>,
            },
            ...(admin
              ? [
                  {
                    header: '',
                    align: 'right' as const,
                    cell: (a: AgentView) =>
                      a.status !== 'revoked' && (
                        <button
                          type="button"
                          className="button button-small button-danger-quiet"
                          disabled={revoke.isPending}
                          onClick={() => {
                            if (
                              window.confirm(
                                `Revoke agent ${a.name}? It is disconnected now and its token stops working.`,
                              )
                            )
                              revoke.mutate(a);
                          }}
                        >
                          Revoke
                        </button>
                      ),
                  },
                ]
              : []),
          ]}
        />
      )}
      <RegisterAgentDialog open={registering} onClose={() => setRegistering(false)} />
    </div>
  );
}
