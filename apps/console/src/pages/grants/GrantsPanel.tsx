import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { CreateGrant, type GrantView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import { can } from '../../auth/capabilities.js';
import { DataTable } from '../../components/DataTable.js';
import { Badge, EmptyState, ErrorNotice, Field, Loading } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';
import { problemsByField } from '../../lib/issues.js';
import { fromLocalInput } from '../../lib/datetime.js';

/** Grants, optionally of one connection or one subject, with the admin's add and remove. */
export function GrantsPanel({ connection, subject }: { connection?: string; subject?: string }) {
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const queryClient = useQueryClient();
  const grants = useQuery({
    queryKey: ['grants', connection ?? null, subject ?? null],
    queryFn: () => api.grants.list({ connection, subject }),
  });
  const remove = useMutation({
    mutationFn: (g: GrantView) => api.grants.remove(g.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['grants'] }),
  });

  return (
    <div className="stack">
      {admin && <GrantForm connection={connection} subject={subject} />}
      {remove.error && <ErrorNotice error={remove.error} what="remove the grant" />}
      {grants.error ? (
        <ErrorNotice error={grants.error} what="load grants" />
      ) : !grants.data ? (
        <Loading />
      ) : (
        <DataTable<GrantView>
          rows={grants.data.items}
          rowKey={(g) => g.id}
          empty={
            subject ? (
              <EmptyState title="No personal grants">Grants to this identity's groups still apply.</EmptyState>
            ) : (
              <EmptyState title="No grants">
                Nobody can use {connection ? 'this connection' : 'a connection'} until it is granted to a group or a
                person.
              </EmptyState>
            )
          }
          columns={[
            ...(connection
              ? []
              : [
                  {
                    header: 'Connection',
                    cell: (g: GrantView) => <Link to={`/connections/${g.connection}`}>{g.connection}</Link>,
                  },
                ]),
            {
              header: 'Granted to',
              cell: (g) =>
                g.group ? (
                  <>
                    <Badge>group</Badge> {g.group}
                  </>
                ) : (
                  <>
                    <Badge tone="info">person</Badge>{' '}
                    <Link to={`/identities/${encodeURIComponent(g.subject ?? '')}`}>{g.subject}</Link>
                  </>
                ),
            },
            { header: 'Reason', cell: (g) => g.reason ?? <span className="muted">—</span> },
            {
              header: 'Expires',
              cell: (g) =>
                g.expiresAt === null ? (
                  <span className="muted">never</span>
                ) : g.expired ? (
                  <Badge tone="bad">expired</Badge>
                ) : (
                  <span title={formatDateTime(g.expiresAt)}>{relativeTime(g.expiresAt)}</span>
                ),
            },
            { header: 'By', cell: (g) => <span title={formatDateTime(g.createdAt)}>{g.createdBy ?? '—'}</span> },
            ...(admin
              ? [
                  {
                    header: '',
                    align: 'right' as const,
                    cell: (g: GrantView) => (
                      <button
                        type="button"
                        className="button button-small button-danger-quiet"
                        disabled={remove.isPending}
                        onClick={() => {
                          if (window.confirm(`Remove the grant of ${g.connection} to ${g.group ?? g.subject}?`))
                            remove.mutate(g);
                        }}
                      >
                        Remove
                      </button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
    </div>
  );
}

function GrantForm({ connection, subject }: { connection?: string; subject?: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [to, setTo] = useState<'group' | 'subject'>(subject ? 'subject' : 'group');
  const [form, setForm] = useState({ connection: connection ?? '', who: subject ?? '', reason: '', expiresAt: '' });
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const create = useMutation({
    mutationFn: (body: CreateGrant) => api.grants.create(body),
    onSuccess: async () => {
      setForm((f) => ({ ...f, who: subject ?? '', reason: '', expiresAt: '' }));
      await queryClient.invalidateQueries({ queryKey: ['grants'] });
    },
    onError: (error) => {
      if (error instanceof ApiFailure) setProblems(problemsByField(error.issues, 'connection'));
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = {
      connection: form.connection.trim(),
      [to]: form.who.trim(),
      reason: form.reason.trim() || undefined,
      expiresAt: fromLocalInput(form.expiresAt) || undefined,
    };
    const parsed = CreateGrant.safeParse(body);
    if (!parsed.success) {
      setProblems(problemsByField(parsed.error.issues, 'connection'));
      return;
    }
    setProblems({});
    create.mutate(parsed.data);
  };

  return (
    <form className="inline-form" onSubmit={submit}>
      {!connection && (
        <Field label="Connection" problems={problems.connection}>
          <input
            value={form.connection}
            onChange={(e) => setForm({ ...form, connection: e.target.value })}
            placeholder="demo-pg"
          />
        </Field>
      )}
      {!subject && (
        <Field label="Grant to">
          <select value={to} onChange={(e) => setTo(e.target.value as 'group' | 'subject')}>
            <option value="group">group</option>
            <option value="subject">person (subject)</option>
          </select>
        </Field>
      )}
      {!subject && (
        <Field
          label={to === 'group' ? 'Group' : 'Subject'}
          problems={[...(problems.group ?? []), ...(problems.subject ?? [])]}
        >
          <input
            value={form.who}
            onChange={(e) => setForm({ ...form, who: e.target.value })}
            placeholder={to === 'group' ? 'analysts' : 'user id'}
          />
        </Field>
      )}
      <Field label="Reason" problems={problems.reason}>
        <input
          value={form.reason}
          onChange={(e) => setForm({ ...form, reason: e.target.value })}
          placeholder="Quarterly reporting"
        />
      </Field>
      <Field label="Expires" problems={problems.expiresAt}>
        <input
          type="datetime-local"
          value={form.expiresAt}
          onChange={(e) => setForm({ ...form, expiresAt: e.target.value })}
        />
      </Field>
      <button type="submit" className="button button-primary" disabled={create.isPending}>
        Grant access
      </button>
      {create.error && !(create.error instanceof ApiFailure && create.error.issues.length > 0) && (
        <div className="inline-form-error">
          <ErrorNotice error={create.error} what="grant access" />
        </div>
      )}
    </form>
  );
}
