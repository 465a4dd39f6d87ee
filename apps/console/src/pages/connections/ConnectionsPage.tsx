import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import type { ConnectionView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, EmptyState, ErrorNotice, Labels, Loading, PageHeader } from '../../components/ui.js';
import { relativeTime } from '../../lib/format.js';
import { CredentialSummary } from './CredentialSummary.js';

export function ConnectionsPage() {
  const api = useApi();
  const user = useUser();
  const navigate = useNavigate();
  const connections = useQuery({ queryKey: ['connections'], queryFn: api.connections.list });
  const admin = can(user, 'manage');

  return (
    <div className="page">
      <PageHeader
        title="Connections"
        description="Databases and HTTP services that clients reach through an agent. Credentials stay with the agents."
        actions={
          admin && (
            <Link className="button button-primary" to="/connections/new">
              New connection
            </Link>
          )
        }
      />
      {connections.error ? (
        <ErrorNotice error={connections.error} what="load connections" onRetry={() => void connections.refetch()} />
      ) : !connections.data ? (
        <Loading />
      ) : (
        <DataTable<ConnectionView>
          rows={connections.data.items}
          rowKey={(c) => c.id}
          onRowClick={(c) => void navigate(`/connections/${c.name}`)}
          empty={
            <EmptyState
              title="No connections yet"
              action={
                admin && (
                  <Link className="button button-primary" to="/connections/new">
                    Register a connection
                  </Link>
                )
              }
            >
              A connection names an upstream (a PostgreSQL database or an HTTP API), its credential and the network its
              agents run in. {admin ? '' : 'An admin can register one.'}
            </EmptyState>
          }
          columns={[
            { header: 'Name', cell: (c) => <strong>{c.name}</strong> },
            { header: 'Kind', cell: (c) => <Badge>{c.kind}</Badge>, width: '7rem' },
            { header: 'Target', cell: (c) => <code className="truncate">{c.target}</code> },
            { header: 'Network', cell: (c) => <Labels labels={c.networkLabels} /> },
            { header: 'Credential', cell: (c) => <CredentialSummary credential={c.credential} /> },
            { header: 'Updated', cell: (c) => relativeTime(c.updatedAt), width: '8rem' },
          ]}
        />
      )}
    </div>
  );
}
