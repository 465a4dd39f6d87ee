import { useCallback } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { useApi } from '../../app-context.js';
import { Badge, decisionTone, ErrorNotice, Loading, PageHeader } from '../../components/ui.js';
import { formatDateTime, formatDuration } from '../../lib/format.js';
import { Replay } from './Replay.js';
import { useSessionEvents } from './use-session-events.js';

/** /sessions/:id?step=N — the step is in the URL so a link opens the replay at that event. */
export function SessionReplayPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const session = useQuery({
    queryKey: ['session', id],
    queryFn: () => api.sessions.get(id),
    refetchInterval: (q) => (q.state.data && q.state.data.endedAt === null ? 1_000 : false),
  });

  if (session.error)
    return (
      <div className="page">
        <ErrorNotice error={session.error} what="load the session" />
      </div>
    );
  if (!session.data)
    return (
      <div className="page">
        <Loading />
      </div>
    );
  const s = session.data;
  const live = s.endedAt === null;

  return (
    <div className="page page-wide">
      <PageHeader
        title={`${s.username ?? s.subject} on ${s.connection}`}
        description={
          <>
            {formatDateTime(s.startedAt)} · agent {s.agentName} · {s.protocol}
            {s.applicationName ? ` · ${s.applicationName}` : ''}
            {s.traceId && (
              <>
                {' '}
                · trace <Link to={`/traces/${encodeURIComponent(s.traceId)}`}>{s.traceId}</Link>
              </>
            )}
          </>
        }
        actions={
          live ? (
            <Badge tone="info">live — new events appear as they are recorded</Badge>
          ) : (
            <Badge tone={decisionTone(s.outcome)} title={s.error ?? undefined}>
              {s.outcome ?? 'ended'} after {formatDuration(Date.parse(s.endedAt!) - Date.parse(s.startedAt))}
            </Badge>
          )
        }
      />
      {s.error && <div className="notice notice-error">{s.error}</div>}
      <SessionEvents key={id} sessionId={id} live={live} />
    </div>
  );
}

function SessionEvents({ sessionId, live }: { sessionId: string; live: boolean }) {
  const [params, setParams] = useSearchParams();
  const step = Math.max(0, Number(params.get('step') ?? 0) || 0);
  const onStep = useCallback((n: number) => setParams({ step: String(n) }, { replace: true }), [setParams]);
  const { events, hasMore, loading, error, loadMore } = useSessionEvents(sessionId, live);
  return (
    <>
      {error !== null && <ErrorNotice error={error} what="load the session's events" onRetry={() => void loadMore()} />}
      <Replay
        events={events}
        hasMore={hasMore && error === null}
        loadingMore={loading}
        loadMore={() => void loadMore()}
        step={step}
        onStep={onStep}
      />
    </>
  );
}
