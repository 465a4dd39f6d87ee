import { useEffect, useState } from 'react';
import { useApi } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import type { PolicyPreview } from '@portcullis/api';
import { Badge, Card, decisionTone, ErrorNotice, Field } from '../../components/ui.js';

const SAMPLE_SQL = 'SELECT full_name, email, card_number FROM customers WHERE id = 42;';
const SAMPLE_TEXT = 'Ada Lovelace, ada@example.com, card 4111 1111 1111 1111';

/**
 * Live preview: every pause in typing sends the draft policy, the statement and the sample result
 * to POST /policies/preview. Either may be empty: without a statement the text is masked as any
 * allowed result would be; without text only the decision is shown. A draft the control plane
 * refuses goes back through `onRefused`, so its issues stand next to the editor's fields.
 * `policy` is null while the draft has problems: nothing is sent then, because the control plane
 * would preview the saved policy instead and its decision would pass for the draft's. With
 * `inForce` (readers who cannot edit, for whom the control plane previews no drafts) the policy in
 * force is previewed and `policy` is not sent.
 */
export function PolicyPreviewPane({
  policy,
  inForce = false,
  onRefused,
}: {
  policy: Record<string, unknown> | null;
  inForce?: boolean;
  onRefused: (policy: Record<string, unknown>, issues: { path: string; message: string }[]) => void;
}) {
  const api = useApi();
  const [sql, setSql] = useState(SAMPLE_SQL);
  const [text, setText] = useState(SAMPLE_TEXT);
  const [result, setResult] = useState<PolicyPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);

  useEffect(() => {
    if ((!policy && !inForce) || (!sql.trim() && !text.trim())) {
      setResult(null);
      setError(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setPending(true);
      api.policies
        .preview(
          { ...(inForce || !policy ? {} : { policy }), ...(sql.trim() ? { sql } : {}), ...(text.trim() ? { text } : {}) },
          controller.signal,
        )
        .then((r) => {
          setResult(r);
          setError(null);
        })
        .catch((e: unknown) => {
          if ((e as Error).name === 'AbortError') return;
          setError(e);
          if (policy && !inForce && e instanceof ApiFailure && e.issues.length > 0) onRefused(policy, e.issues);
        })
        .finally(() => setPending(false));
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // onRefused is left out on purpose: a new callback each render must not send the preview again.
  }, [api, sql, text, policy, inForce]);

  const decision = result?.decision ?? null;

  return (
    <Card
      title="Preview"
      className="policy-preview"
      actions={pending && <span className="muted small">checking…</span>}
    >
      <Field label="Statement (SQL)" hint="Decides allow, mask, block or review. Leave empty to mask the text alone.">
        <textarea
          className="mono sample"
          rows={3}
          value={sql}
          onChange={(e) => setSql(e.target.value)}
          spellCheck={false}
        />
      </Field>
      <Field label="Sample result or text" hint="A row, a JSON answer or a prompt: masked as the client would see it.">
        <textarea
          className="mono sample"
          rows={3}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
      </Field>
      {!policy && <div className="notice notice-warn">Fix the problems in the draft to preview it.</div>}
      {error !== null && <ErrorNotice error={error} what="preview the policy" />}
      {result && (
        <div className="stack preview-result">
          <div className="detail-heading">
            <span>Decision</span>
            {decision ? (
              <>
                <Badge tone={decisionTone(decision.action)}>{decision.action}</Badge>
                {(decision.reason || decision.ruleId) && (
                  <span className="muted">{decision.reason ?? `rule ${decision.ruleId}`}</span>
                )}
              </>
            ) : (
              <span className="muted">none: no SQL given, the text is masked as a result value would be</span>
            )}
          </div>
          {result.explanation.length > 0 && (
            <ul className="explanation">
              {result.explanation.map((step, i) => (
                <li key={i} className={step.matched ? 'matched' : 'muted'}>
                  <code>{step.ruleId}</code>
                  {step.statement !== null && <span className="muted"> (statement {step.statement + 1})</span>}{' '}
                  {step.matched ? 'matched' : 'did not match'}: {step.why}
                </li>
              ))}
            </ul>
          )}
          {result.masked && (
            <>
              <div className="muted small">
                Masked output
                {result.masked.findings.length > 0 &&
                  ` · ${result.masked.findings.length} value${result.masked.findings.length === 1 ? '' : 's'} found (${[
                    ...new Set(result.masked.findings.map((f) => f.entity)),
                  ].join(', ')})`}
              </div>
              <pre className="statement masked">{result.masked.text}</pre>
            </>
          )}
        </div>
      )}
    </Card>
  );
}
