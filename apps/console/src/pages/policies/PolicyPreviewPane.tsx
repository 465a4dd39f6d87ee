import { useEffect, useState } from 'react';
import { useApi } from '../../app-context.js';
import type { PolicyPreview } from '../../api/pending-schemas.js';
import { Badge, Card, decisionTone, ErrorNotice } from '../../components/ui.js';
import { ResultPreview } from '../sessions/EventDetail.js';

const SAMPLES = {
  sql: "SELECT name, email, card_number FROM customers WHERE id = 42;\n-- sample row: 'Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111'",
  text: 'Please charge card 4111 1111 1111 1111 and send the receipt to ada@example.com.',
};

/** Live preview: every pause in typing sends the draft policy and the sample to POST /policies/preview. */
export function PolicyPreviewPane({ policy }: { policy: Record<string, unknown> | null }) {
  const api = useApi();
  const [mode, setMode] = useState<'sql' | 'text'>('text');
  const [sample, setSample] = useState(SAMPLES.text);
  const [result, setResult] = useState<PolicyPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);

  useEffect(() => {
    if (!sample.trim()) {
      setResult(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setPending(true);
      api.policies
        .preview({ [mode]: sample, ...(policy ? { policy } : {}) }, controller.signal)
        .then((r) => {
          setResult(r);
          setError(null);
        })
        .catch((e: unknown) => {
          if ((e as Error).name !== 'AbortError') setError(e);
        })
        .finally(() => setPending(false));
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, mode, sample, policy]);

  const decision = result
    ? typeof result.decision === 'string'
      ? { action: result.decision }
      : result.decision
    : null;
  const explanation =
    result?.explanation === undefined
      ? []
      : Array.isArray(result.explanation)
        ? result.explanation
        : [result.explanation];

  return (
    <Card
      title="Preview"
      className="policy-preview"
      actions={pending && <span className="muted small">checking…</span>}
    >
      <div className="segmented" role="radiogroup" aria-label="Sample kind">
        {(['text', 'sql'] as const).map((m) => (
          <label key={m} className={mode === m ? 'active' : ''}>
            <input
              type="radio"
              checked={mode === m}
              onChange={() => {
                setMode(m);
                if (sample === SAMPLES[mode]) setSample(SAMPLES[m]);
              }}
            />
            {m === 'sql' ? 'SQL statement' : 'Text or JSON'}
          </label>
        ))}
      </div>
      <textarea
        className="mono sample"
        rows={5}
        value={sample}
        onChange={(e) => setSample(e.target.value)}
        spellCheck={false}
        aria-label="Sample"
      />
      {!policy && <p className="muted small">The draft has errors: previewing against the saved policy.</p>}
      {error !== null && <ErrorNotice error={error} what="preview the policy" />}
      {decision && (
        <div className="stack preview-result">
          <div className="detail-heading">
            <span>Decision</span>
            <Badge tone={decisionTone(decision.action)}>{decision.action}</Badge>
            {'reason' in decision && decision.reason && <span className="muted">{String(decision.reason)}</span>}
          </div>
          {explanation.length > 0 && (
            <ul className="explanation">
              {explanation.map((line, i) => (
                <li key={i}>{line}</li>
              ))}
            </ul>
          )}
          <MaskedOutput masked={result?.masked} />
        </div>
      )}
    </Card>
  );
}

function MaskedOutput({ masked }: { masked: unknown }) {
  if (masked === undefined || masked === null) return null;
  if (typeof masked === 'string') return <pre className="statement masked">{masked}</pre>;
  const m = masked as { columns?: unknown; rows?: unknown };
  if (Array.isArray(m.columns) && Array.isArray(m.rows)) {
    return (
      <ResultPreview
        result={{ columns: m.columns.map(String), rows: m.rows.filter(Array.isArray), truncated: false }}
      />
    );
  }
  return <pre className="statement masked">{JSON.stringify(masked, null, 2)}</pre>;
}
