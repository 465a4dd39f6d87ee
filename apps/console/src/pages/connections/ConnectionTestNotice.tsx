import type { ConnectionTestResult } from '@portcullis/api';
import { formatDuration } from '../../lib/format.js';

/** What an error code usually means for an admin, as seen from the agent that ran the test. */
const HINTS: Record<string, string> = {
  '28P01': 'The upstream refused the password: check the connection’s credential.',
  '28000': 'The upstream refused this login: check the user in the target and the server’s pg_hba.conf.',
  '3D000': 'The database named in the target does not exist on the upstream.',
  ECONNREFUSED: 'Nothing accepts connections at that host and port, as seen from the agent.',
  ENOTFOUND: 'The agent cannot resolve the host name.',
  EAI_AGAIN: 'The agent cannot resolve the host name.',
  EHOSTUNREACH: 'The agent has no route to that host.',
  ENETUNREACH: 'The agent has no route to that host.',
  ETIMEDOUT: 'No answer in time: a firewall, or the wrong host or port.',
  '401': 'The upstream refused the credential.',
  '403': 'The upstream refused the credential.',
  '407': 'A proxy in front of the upstream refused the credential.',
  credential_unavailable: 'The agent cannot read the credential: check the secret reference on the agent.',
  not_served: 'The agent does not have this connection in its configuration yet; try again in a moment.',
};

/** The answer of one "Test connection": the upstream's answer, or its error in words. */
export function ConnectionTestNotice({ result }: { result: ConnectionTestResult }) {
  const via = (
    <span className="muted">
      {' '}
      — via agent {result.agent.name}, {formatDuration(result.latencyMs)}
    </span>
  );
  if (result.ok) {
    return (
      <div className="notice notice-good" role="status">
        <strong>The upstream answered.</strong> {result.detail}
        {via}
      </div>
    );
  }
  const code = result.error?.code ?? null;
  const hint = code
    ? (HINTS[code] ?? (/^5\d\d$/.test(code) ? 'The upstream failed while answering.' : undefined))
    : undefined;
  return (
    <div className="notice notice-error" role="status">
      <strong>The upstream did not accept the connection.</strong> {hint}{' '}
      <span>
        {result.error?.message ?? 'No answer.'}
        {code && (
          <>
            {' '}
            (<code>{code}</code>)
          </>
        )}
      </span>
      {via}
    </div>
  );
}
