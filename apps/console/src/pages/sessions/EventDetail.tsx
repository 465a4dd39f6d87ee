import type { EventView } from '@portcullis/api';
import { Badge, decisionTone } from '../../components/ui.js';
import { formatBytes, formatDuration } from '../../lib/format.js';
import type { RecordedStatement } from '../../lib/replay.js';

type Json = Record<string, unknown>;
const part = (event: EventView, key: string): Json => {
  const v = event.data[key];
  return typeof v === 'object' && v !== null ? (v as Json) : {};
};

export function EventDetail({
  event,
  statement,
  offsetMs,
}: {
  event: EventView;
  statement: RecordedStatement | null;
  offsetMs: number;
}) {
  if (event.type === 'session_start') {
    const s = part(event, 'sessionStart');
    return (
      <div className="stack">
        <h3>Session opened</h3>
        <dl className="details">
          <dt>Identity</dt>
          <dd>{String(s.username ?? s.subject ?? '—')}</dd>
          <dt>Groups</dt>
          <dd>{Array.isArray(s.groups) ? s.groups.join(', ') || '—' : '—'}</dd>
          <dt>Connection</dt>
          <dd>{String(s.connection ?? '—')}</dd>
          <dt>Client</dt>
          <dd>{[s.applicationName, s.clientAddress].filter(Boolean).join(' from ') || '—'}</dd>
          {typeof s.traceId === 'string' && (
            <>
              <dt>Trace</dt>
              <dd className="mono">{s.traceId}</dd>
            </>
          )}
        </dl>
      </div>
    );
  }
  if (event.type === 'session_end') {
    const s = part(event, 'sessionEnd');
    return (
      <div className="stack">
        <h3>Session closed</h3>
        <dl className="details">
          <dt>Outcome</dt>
          <dd>
            <Badge tone={decisionTone(String(s.outcome ?? ''))}>{String(s.outcome ?? 'ended')}</Badge>
          </dd>
          {typeof s.error === 'string' && (
            <>
              <dt>Error</dt>
              <dd>{s.error}</dd>
            </>
          )}
          <dt>Traffic</dt>
          <dd>
            {formatBytes(Number(s.bytesFromClient ?? 0))} in, {formatBytes(Number(s.bytesToClient ?? 0))} out
          </dd>
          <dt>After</dt>
          <dd>{formatDuration(offsetMs)}</dd>
        </dl>
      </div>
    );
  }
  if (!statement) return null;
  const d = statement.decision;
  return (
    <div className="stack">
      <div className="detail-heading">
        <h3>{statement.kind || 'Statement'}</h3>
        {d && <Badge tone={decisionTone(d.action)}>{d.action}</Badge>}
        {statement.error && <Badge tone="bad">error {statement.error.code}</Badge>}
      </div>
      <pre className="statement">{statement.text}</pre>
      {statement.parameters.length > 0 && (
        <p className="small">
          Parameters:{' '}
          {statement.parameters.map((p, i) => (
            <code key={i}>
              ${i + 1} = {p}
            </code>
          ))}
        </p>
      )}
      <dl className="details details-compact">
        <dt>At</dt>
        <dd>+{formatDuration(offsetMs)}</dd>
        <dt>Took</dt>
        <dd>{formatDuration(statement.durationMs)}</dd>
        <dt>Result</dt>
        <dd>{statement.commandTag || `${statement.rowCount} rows`}</dd>
        {d && (
          <>
            <dt>Decision</dt>
            <dd>
              {d.reason || <span className="muted">no reason recorded</span>}
              {d.ruleIds.length > 0 && <span className="muted"> · rules {d.ruleIds.join(', ')}</span>}
              {d.policyVersion !== null && <span className="muted"> · policy v{d.policyVersion}</span>}
            </dd>
          </>
        )}
        {d && Object.keys(d.maskedCounts).length > 0 && (
          <>
            <dt>Masked</dt>
            <dd>
              {Object.entries(d.maskedCounts).map(([entity, n]) => (
                <Badge key={entity} tone="warn">
                  {n} × {entity}
                </Badge>
              ))}
            </dd>
          </>
        )}
      </dl>
      {statement.error && (
        <div className="notice notice-error">
          <strong>{statement.error.code}</strong> {statement.error.message}
        </div>
      )}
      {statement.result && <ResultPreview result={statement.result} />}
    </div>
  );
}

/** What the client saw, as recorded (already masked by the agent). */
export function ResultPreview({ result }: { result: NonNullable<RecordedStatement['result']> }) {
  return (
    <div className="result-preview">
      <div className="result-caption muted small">
        Result as the client saw it{result.truncated ? ' (first rows only: the agent caps recorded previews)' : ''}
      </div>
      <div className="table-frame result-frame">
        <table className="table table-dense">
          <thead>
            <tr>
              {result.columns.map((c, i) => (
                <th key={i}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row, r) => (
              <tr key={r}>
                {result.columns.map((_, i) => (
                  <td key={i} className="mono">
                    {row[i] === null || row[i] === undefined ? (
                      <span className="null">NULL</span>
                    ) : typeof row[i] === 'object' ? (
                      JSON.stringify(row[i])
                    ) : (
                      String(row[i])
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {result.rows.length === 0 && <p className="muted small pad">No rows.</p>}
      </div>
    </div>
  );
}
