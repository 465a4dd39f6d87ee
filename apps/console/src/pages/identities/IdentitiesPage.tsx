import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import type { IdentityView } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { PagedTable, usePagedQuery } from '../../components/PagedTable.js';
import { Badge, EmptyState, Labels, PageHeader } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';

/** /identities?username=&status=disabled|enabled — filters live in the URL. */
export function IdentitiesPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const username = params.get('username') ?? '';
  const status = params.get('status') ?? '';
  const [draft, setDraft] = useState(username);
  const query = {
    username: username || undefined,
    disabled: status === 'disabled' ? true : status === 'enabled' ? false : undefined,
  };

  const identities = usePagedQuery(
    ['identities', query],
    (cursor) => api.identities.list({ ...query, limit: 100, cursor }),
    { refreshMs: 10_000 },
  );
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next);
  };
  const search = (e: FormEvent) => {
    e.preventDefault();
    setFilter('username', draft.trim());
  };

  return (
    <div className="page">
      <PageHeader
        title="Identities"
        description="People and service accounts the control plane has seen in a valid token. Disable one to end its sessions on every agent."
        actions={
          <form className="page-actions" onSubmit={search}>
            <select value={status} onChange={(e) => setFilter('status', e.target.value)} aria-label="Status">
              <option value="">All</option>
              <option value="enabled">Active</option>
              <option value="disabled">Disabled</option>
            </select>
            <input
              className="search"
              type="search"
              placeholder="Username"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              aria-label="Username"
            />
          </form>
        }
      />
      <PagedTable<IdentityView>
        pages={identities}
        what="load identities"
        moreLabel="Load more"
        rowKey={(i) => i.subject}
        onRowClick={(i) => void navigate(`/identities/${encodeURIComponent(i.subject)}`)}
        empty={
          <EmptyState title={username || status ? 'No identity matches' : 'No identities seen yet'}>
            {username || status
              ? 'Try another name or status.'
              : 'Identities appear once they use a token with the console, the CLI or an agent.'}
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
          {
            header: 'Groups',
            cell: (i) => (i.groups.length ? <Labels labels={i.groups} /> : <span className="muted">—</span>),
          },
          { header: 'Roles', cell: (i) => i.roles.join(', ') || <span className="muted">—</span> },
          {
            header: 'Last seen',
            cell: (i) => <span title={formatDateTime(i.lastSeenAt)}>{relativeTime(i.lastSeenAt)}</span>,
          },
          {
            header: 'Status',
            cell: (i) =>
              i.disabled ? (
                <Badge tone="bad" title={i.disableReason ?? undefined}>
                  disabled
                </Badge>
              ) : (
                <Badge tone="good">active</Badge>
              ),
          },
        ]}
      />
    </div>
  );
}
