import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import type { SessionView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, Card, decisionTone, EmptyState, ErrorNotice, Field, Labels, Loading, Modal, PageHeader } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';
import { GrantsPanel } from '../grants/GrantsPanel.js';

export function IdentityPage() {
  const { subject = '' } = useParams();
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const navigate = useNavigate();
  const [changing, setChanging] = useState(false);
  const identities = useQuery({ queryKey: ['identities'], queryFn: api.identities.list, refetchInterval: 5_000 });
  // Polled every second so an admin who disables someone sees their sessions end.
  const sessions = useQuery({
    queryKey: ['sessions', 'of', subject],
    queryFn: () => api.sessions.list({ subject, limit: 20 }),
    refetchInterval: 1_000,
    enabled: can(user, 'viewRecordings'),
  });
  const identity = identities.data?.items.find((i) => i.subject === subject);
  const name = identity?.username ?? subject;

  return (
    <div className="page">
      <PageHeader
        title={name}
        description={<span className="mono">{subject}</span>}
        actions={
          admin &&
          identity && (
            <button type="button" className={`button ${identity.disabled ? 'button-primary' : 'button-danger'}`} onClick={() => setChanging(true)}>
              {identity.disabled ? 'Enable' : 'Disable'}
            </button>
          )
        }
      />
      {identities.error ? (
        <ErrorNotice error={identities.error} what="Identity details" />
      ) : !identities.data ? (
        <Loading />
      ) : !identity ? (
        <div className="notice notice-info">The control plane has no record of this identity; its sessions and grants are shown below.</div>
      ) : (
        <Card>
          <dl className="details">
            <dt>Status</dt>
            <dd>
              {identity.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="good">active</Badge>}
              {identity.disabledReason && <span className="muted"> — {identity.disabledReason}</span>}
            </dd>
            <dt>Groups</dt>
            <dd>{identity.groups.length ? <Labels labels={identity.groups} /> : <span className="muted">none</span>}</dd>
            <dt>Last seen</dt>
            <dd title={formatDateTime(identity.lastSeenAt)}>{relativeTime(identity.lastSeenAt)}</dd>
          </dl>
        </Card>
      )}

      <Card title="Recent sessions" actions={<Link to={`/sessions?subject=${encodeURIComponent(subject)}`}>All of them</Link>}>
        {sessions.error ? (
          <ErrorNotice error={sessions.error} what="load sessions" />
        ) : !sessions.data ? (
          can(user, 'viewRecordings') ? <Loading /> : <p className="muted">Sessions are visible to admins and auditors.</p>
        ) : (
          <DataTable<SessionView>
            rows={sessions.data.items}
            rowKey={(s) => s.id}
            onRowClick={(s) => void navigate(`/sessions/${s.id}`)}
            empty={<EmptyState title="No sessions recorded for this identity" />}
            columns={[
              { header: 'Started', cell: (s) => <span title={formatDateTime(s.startedAt)}>{relativeTime(s.startedAt)}</span> },
              { header: 'Connection', cell: (s) => s.connection },
              { header: 'Agent', cell: (s) => s.agentName },
              { header: 'Statements', cell: (s) => s.statementCount, align: 'right' },
              {
                header: 'Status',
                cell: (s) =>
                  s.endedAt === null ? (
                    <Badge tone="info">live</Badge>
                  ) : (
                    <Badge tone={decisionTone(s.outcome)} title={s.error ?? undefined}>
                      {s.outcome ?? 'ended'} {relativeTime(s.endedAt)}
                    </Badge>
                  ),
              },
            ]}
          />
        )}
      </Card>

      <Card title="Personal grants">
        <GrantsPanel subject={subject} />
      </Card>

      {identity && (
        <ChangeStatusDialog open={changing} onClose={() => setChanging(false)} subject={subject} name={name} disable={!identity.disabled} />
      )}
    </div>
  );
}

function ChangeStatusDialog({ open, onClose, subject, name, disable }: { open: boolean; onClose: () => void; subject: string; name: string; disable: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const change = useMutation({
    mutationFn: () => (disable ? api.identities.disable(subject, reason.trim()) : api.identities.enable(subject, reason.trim())),
    onSuccess: async () => {
      setReason('');
      onClose();
      await queryClient.invalidateQueries({ queryKey: ['identities'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    change.mutate();
  };
  return (
    <Modal title={`${disable ? 'Disable' : 'Enable'} ${name}`} open={open} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <p className="muted">
          {disable
            ? 'Every agent refuses new sessions of this identity and closes the open ones with the next configuration push.'
            : 'The identity can open sessions again, within its grants.'}
        </p>
        <Field label="Reason" hint="Recorded in the audit log." problems={reason.trim() === '' && change.isError ? ['a reason is required'] : []}>
          <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder={disable ? 'Laptop reported stolen' : 'Investigation closed'} autoFocus />
        </Field>
        {change.error && <ErrorNotice error={change.error} what={`${disable ? 'disable' : 'enable'} ${name}`} />}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`button ${disable ? 'button-danger' : 'button-primary'}`} disabled={reason.trim() === '' || change.isPending}>
            {disable ? 'Disable now' : 'Enable'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
