import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { useApi } from '../../app-context.js';
import type { IdentityView } from '../../api/pending-schemas.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, EmptyState, ErrorNotice, Labels, Loading, PageHeader } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';

export function IdentitiesPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [search, setSearch] = useState('');
  const identities = useQuery({ queryKey: ['identities'], queryFn: api.identities.list, refetchInterval: 10_000 });
  const needle = search.trim().toLowerCase();
  const rows = (identities.data?.items ?? []).filter(
    (i) => !needle || [i.username ?? '', i.subject, ...i.groups].some((text) => text.toLowerCase().includes(needle)),
  );

  return (
    <div className="page">
      <PageHeader
        title="Identities"
        description="People and service accounts the control plane has seen, with their groups. Disable one to end its sessions everywhere."
        actions={<input className="search" type="search" placeholder="Search name, subject or group" value={search} onChange={(e) => setSearch(e.target.value)} />}
      />
      {identities.error ? (
        <ErrorNotice error={identities.error} what="Identities" onRetry={() => void identities.refetch()} />
      ) : !identities.data ? (
        <Loading />
      ) : (
        <DataTable<IdentityView>
          rows={rows}
          rowKey={(i) => i.subject}
          onRowClick={(i) => void navigate(`/identities/${encodeURIComponent(i.subject)}`)}
          empty={
            <EmptyState title={needle ? 'No identity matches' : 'No identities seen yet'}>
              {needle ? 'Try another name or group.' : 'Identities appear after they sign in to the console, the CLI or an agent.'}
            </EmptyState>
          }
          columns={[
            {
              header: 'Identity',
              cell: (i) => (
                <div>
                  <strong>{i.username ?? i.subject}</strong>
                  <div className="muted small mono">{i.subject}</div>
                </div>
              ),
            },
            { header: 'Groups', cell: (i) => <Labels labels={i.groups} /> },
            { header: 'Live sessions', cell: (i) => i.liveSessions ?? '—', align: 'right' },
            { header: 'Last seen', cell: (i) => <span title={formatDateTime(i.lastSeenAt)}>{relativeTime(i.lastSeenAt)}</span> },
            { header: 'Status', cell: (i) => (i.disabled ? <Badge tone="bad" title={i.disabledReason ?? undefined}>disabled</Badge> : <Badge tone="good">active</Badge>) },
          ]}
        />
      )}
    </div>
  );
}
