import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { DisableIdentity, type SessionView } from '@portcullis/api';
import { ApiFailure } from '../../api/errors.js';
import { useApi, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import {
  Badge,
  Card,
  decisionTone,
  EmptyState,
  ErrorNotice,
  Field,
  Labels,
  Loading,
  Modal,
  PageHeader,
} from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';
import { GrantsPanel } from '../grants/GrantsPanel.js';

export function IdentityPage() {
  const { subject = '' } = useParams();
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const navigate = useNavigate();
  const [changing, setChanging] = useState(false);
  const found = useQuery({
    queryKey: ['identity', subject],
    queryFn: () => api.identities.get(subject),
    refetchInterval: 5_000,
  });
  // Polled every second so an admin who disables someone sees their sessions end.
  const sessions = useQuery({
    queryKey: ['sessions', 'of', subject],
    queryFn: () => api.sessions.list({ subject, limit: 20 }),
    refetchInterval: 1_000,
    enabled: can(user, 'viewRecordings'),
  });
  const identity = found.data;
  const unknown = found.error instanceof ApiFailure && found.error.kind === 'not-found';
  const name = identity?.username ?? subject;

  return (
    <div className="page">
      <PageHeader
        title={name}
        description={<span className="mono">{subject}</span>}
        actions={
          admin &&
          identity && (
            <button
              type="button"
              className={`button ${identity.disabled ? 'button-primary' : 'button-danger'}`}
              onClick={() => setChanging(true)}
            >
              {identity.disabled ? 'Enable' : 'Disable'}
            </button>
          )
        }
      />
      {unknown ? (
        <div className="notice notice-info">
          No token with this subject has been seen yet; its sessions and grants are shown below.
        </div>
      ) : found.error ? (
        <ErrorNotice error={found.error} what="load the identity" />
      ) : !identity ? (
        <Loading />
      ) : (
        <Card>
          <dl className="details">
            <dt>Status</dt>
            <dd>
              {identity.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="good">active</Badge>}
              {identity.disabled && (
                <span className="muted">
                  {' '}
                  by {identity.disabledBy ?? 'unknown'} {relativeTime(identity.disabledAt)}
                  {identity.disableReason ? ` — ${identity.disableReason}` : ''}
                </span>
              )}
            </dd>
            <dt>Groups</dt>
            <dd>
              {identity.groups.length ? <Labels labels={identity.groups} /> : <span className="muted">none</span>}
            </dd>
            <dt>Roles</dt>
            <dd>{identity.roles.join(', ') || <span className="muted">none</span>}</dd>
            <dt>Seen</dt>
            <dd>
              first {formatDateTime(identity.firstSeenAt)}, last{' '}
              <span title={formatDateTime(identity.lastSeenAt)}>{relativeTime(identity.lastSeenAt)}</span>
            </dd>
          </dl>
        </Card>
      )}

      <Card
        title="Recent sessions"
        actions={<Link to={`/sessions?subject=${encodeURIComponent(subject)}`}>All of them</Link>}
      >
        {sessions.error ? (
          <ErrorNotice error={sessions.error} what="load sessions" />
        ) : !sessions.data ? (
          can(user, 'viewRecordings') ? (
            <Loading />
          ) : (
            <p className="muted">Sessions are visible to admins and auditors.</p>
          )
        ) : (
          <DataTable<SessionView>
            rows={sessions.data.items}
            rowKey={(s) => s.id}
            onRowClick={(s) => void navigate(`/sessions/${s.id}`)}
            empty={<EmptyState title="No sessions recorded for this identity" />}
            columns={[
              {
                header: 'Started',
                cell: (s) => <span title={formatDateTime(s.startedAt)}>{relativeTime(s.startedAt)}</span>,
              },
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
        <ChangeStatusDialog
          open={changing}
          onClose={() => setChanging(false)}
          subject={subject}
          name={name}
          disable={!identity.disabled}
        />
      )}
    </div>
  );
}

function ChangeStatusDialog({
  open,
  onClose,
  subject,
  name,
  disable,
}: {
  open: boolean;
  onClose: () => void;
  subject: string;
  name: string;
  disable: boolean;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const change = useMutation({
    mutationFn: (body: DisableIdentity) =>
      disable ? api.identities.disable(subject, body) : api.identities.enable(subject, body),
    onSuccess: async (updated) => {
      setReason('');
      onClose();
      queryClient.setQueryData(['identity', subject], updated);
      await queryClient.invalidateQueries({ queryKey: ['identities'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = DisableIdentity.safeParse({ reason });
    setProblems(parsed.success ? [] : parsed.error.issues.map((i) => i.message));
    if (parsed.success) change.mutate(parsed.data);
  };
  return (
    <Modal title={`${disable ? 'Disable' : 'Enable'} ${name}`} open={open} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <p className="muted">
          {disable
            ? 'Every agent refuses new sessions of this identity and closes the open ones with the next configuration push.'
            : 'The identity can open sessions again, within its grants.'}
        </p>
        <Field label="Reason" hint="Recorded in the audit log and sent to the agents." problems={problems}>
          <input
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder={disable ? 'Laptop reported stolen' : 'Investigation closed'}
            autoFocus
          />
        </Field>
        {change.error && <ErrorNotice error={change.error} what={`${disable ? 'disable' : 'enable'} ${name}`} />}
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className={`button ${disable ? 'button-danger' : 'button-primary'}`}
            disabled={change.isPending}
          >
            {disable ? 'Disable now' : 'Enable'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
