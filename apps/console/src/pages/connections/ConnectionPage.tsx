import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { useApi, useConfig, useUser } from '../../app-context.js';
import { can } from '../../auth/capabilities.js';
import { Badge, Card, CodeBlock, ErrorNotice, Labels, Loading, PageHeader } from '../../components/ui.js';
import { formatDateTime, relativeTime } from '../../lib/format.js';
import { ciSnippet } from '../../lib/snippets.js';
import { GrantsPanel } from '../grants/GrantsPanel.js';
import { ConnectionTestNotice } from './ConnectionTestNotice.js';
import { CredentialSummary } from './CredentialSummary.js';

export function ConnectionPage() {
  const { name = '' } = useParams();
  const api = useApi();
  const config = useConfig();
  const user = useUser();
  const admin = can(user, 'manage');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const connection = useQuery({ queryKey: ['connection', name], queryFn: () => api.connections.get(name) });
  const endpoints = useQuery({
    queryKey: ['connection-endpoints', name],
    queryFn: () => api.connections.endpoints(name),
    refetchInterval: 10_000,
  });
  const test = useMutation({ mutationFn: () => api.connections.test(name) });
  const remove = useMutation({
    mutationFn: () => api.connections.remove(name),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['connections'] });
      void navigate('/connections');
    },
  });

  if (connection.error)
    return (
      <div className="page">
        <ErrorNotice error={connection.error} what={`load connection ${name}`} />
      </div>
    );
  if (!connection.data)
    return (
      <div className="page">
        <Loading />
      </div>
    );
  const c = connection.data;

  return (
    <div className="page">
      <PageHeader
        title={c.name}
        description={c.description ?? `${c.kind} connection`}
        actions={
          <>
            <Link to={`/sessions?connection=${encodeURIComponent(c.name)}`} className="button">
              Sessions
            </Link>
            {admin && (
              <button type="button" className="button" onClick={() => test.mutate()} disabled={test.isPending}>
                {test.isPending ? 'Testing…' : 'Test connection'}
              </button>
            )}
            {admin && (
              <Link to={`/connections/${c.name}/edit`} className="button button-primary">
                Edit
              </Link>
            )}
          </>
        }
      />
      {test.error && <ErrorNotice error={test.error} what="test the connection" />}
      {test.data && <ConnectionTestNotice result={test.data} />}

      <div className="grid grid-3">
        <Card title="Details" className="span-2">
          <dl className="details">
            <dt>Kind</dt>
            <dd>
              <Badge>{c.kind}</Badge>
            </dd>
            <dt>Target</dt>
            <dd>
              <code>{c.target}</code>
            </dd>
            <dt>Credential</dt>
            <dd>
              <CredentialSummary credential={c.credential} />
            </dd>
            <dt>Network labels</dt>
            <dd>
              <Labels labels={c.networkLabels} />
            </dd>
            {Object.keys(c.options).length > 0 && (
              <>
                <dt>Options</dt>
                <dd>
                  <code>{JSON.stringify(c.options)}</code>
                </dd>
              </>
            )}
            <dt>Updated</dt>
            <dd title={formatDateTime(c.updatedAt)}>{relativeTime(c.updatedAt)}</dd>
          </dl>
        </Card>
        <Card title="Served by">
          {endpoints.error ? (
            <ErrorNotice error={endpoints.error} what="find the agents serving this connection" />
          ) : !endpoints.data ? (
            <Loading />
          ) : endpoints.data.agents.length === 0 ? (
            <p className="muted small">
              No online agent carries any of the labels {c.networkLabels.join(', ')}.{' '}
              <Link to="/agents">Register or start one</Link> in that network.
            </p>
          ) : (
            <ul className="plain-list">
              {endpoints.data.agents.map((a) => (
                <li key={a.id}>
                  <span className="dot dot-online" /> {a.name}{' '}
                  <span className="muted small">{a.addresses.map((x) => `${x.protocol} ${x.address}`).join(', ')}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>

      <Card title="Access">
        <GrantsPanel connection={c.name} />
      </Card>

      <Card title="Use it from CI">
        <p className="muted small">
          The CLI signs in as the job's service account, finds the nearest agent that serves <strong>{c.name}</strong>{' '}
          and hands the client a short-lived token as its password.
        </p>
        <CodeBlock label="shell" code={ciSnippet(c.name, c.kind, window.location.origin, config.issuer)} />
      </Card>

      {admin && (
        <Card title="Danger zone">
          <div className="danger-row">
            <span>
              Delete this connection. Its agents stop serving it with their next configuration; recordings stay.
            </span>
            <button
              type="button"
              className="button button-danger"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete connection ${c.name}? Clients using it will be refused.`)) remove.mutate();
              }}
            >
              Delete connection
            </button>
          </div>
          {remove.error && <ErrorNotice error={remove.error} what="delete the connection" />}
        </Card>
      )}
    </div>
  );
}
