import { useCallback } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { useApi } from '../../app-context.js';
import { ErrorNotice, Loading, PageHeader } from '../../components/ui.js';
import { Replay } from './Replay.js';

/** /traces/:id — one RAG request followed across sessions: retrieval, prompt, answer. */
export function TracePage() {
  const { id = '' } = useParams();
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const step = Math.max(0, Number(params.get('step') ?? 0) || 0);
  const onStep = useCallback((n: number) => setParams({ step: String(n) }, { replace: true }), [setParams]);
  const trace = useQuery({ queryKey: ['trace', id], queryFn: () => api.traces.get(id) });

  return (
    <div className="page page-wide">
      <PageHeader
        title={`Trace ${id}`}
        description={
          trace.data && trace.data.sessions.length > 0 ? (
            <>
              Across {trace.data.sessions.length} session(s):{' '}
              {trace.data.sessions.map((s, i) => (
                <span key={s.id}>
                  {i > 0 && ', '}
                  <Link to={`/sessions/${s.id}`}>{s.connection}</Link>
                </span>
              ))}
            </>
          ) : (
            'Every statement and request that carried this trace id, in order.'
          )
        }
      />
      {trace.error ? (
        <ErrorNotice error={trace.error} what="load the trace" />
      ) : !trace.data ? (
        <Loading />
      ) : (
        <Replay
          events={trace.data.events}
          hasMore={false}
          loadingMore={false}
          loadMore={() => undefined}
          step={step}
          onStep={onStep}
        />
      )}
    </div>
  );
}
