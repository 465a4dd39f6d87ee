import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { PolicyView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import { can } from '../../auth/capabilities.js';
import { Card, ErrorNotice, Loading, PageHeader } from '../../components/ui.js';
import { parsePolicyText, STARTER_POLICY } from '../../lib/policy-text.js';
import { PolicyHistory } from './PolicyHistory.js';
import { PolicyPreviewPane } from './PolicyPreviewPane.js';

const pretty = (policy: Record<string, unknown>) => JSON.stringify(policy, null, 2);

export function PoliciesPage() {
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const queryClient = useQueryClient();
  const current = useQuery({ queryKey: ['policy'], queryFn: api.policies.current });
  const [text, setText] = useState<string | null>(null);
  const missing = current.error instanceof ApiFailure && current.error.kind === 'missing-endpoint';

  // Start from the saved policy once it arrives (or the starter when there is none to load).
  useEffect(() => {
    if (text !== null) return;
    if (current.data) setText(pretty(current.data.policy));
    else if (current.error) setText(pretty(STARTER_POLICY));
  }, [current.data, current.error, text]);

  const parsed = useMemo(() => (text === null ? null : parsePolicyText(text)), [text]);
  const onSaved = async (saved: PolicyView) => {
    queryClient.setQueryData(['policy'], saved);
    setText(pretty(saved.policy));
    await queryClient.invalidateQueries({ queryKey: ['policy-versions'] });
  };
  const save = useMutation({ mutationFn: api.policies.save, onSuccess: onSaved });
  const rollback = useMutation({ mutationFn: api.policies.rollback, onSuccess: onSaved });
  const saveIssues = save.error instanceof ApiFailure ? save.error.issues : [];
  const dirty = text !== null && current.data !== undefined && text !== pretty(current.data.policy);

  if (text === null || parsed === null) {
    return (
      <div className="page">
        {current.error && !missing ? <ErrorNotice error={current.error} what="load the policy" /> : <Loading />}
      </div>
    );
  }

  return (
    <div className="page page-wide">
      <PageHeader
        title="Policies"
        description="Ordered rules: the first that matches a request decides to allow, mask, block or hold it for review. Try a draft on sample data before saving."
        actions={
          admin && (
            <button
              type="button"
              className="button button-primary"
              disabled={!parsed.ok || save.isPending || (!dirty && !missing)}
              onClick={() => parsed.ok && save.mutate(parsed.value)}
            >
              {save.isPending ? 'Saving…' : current.data ? `Save as v${current.data.version + 1}` : 'Save'}
            </button>
          )
        }
      />
      {current.error && (
        <ErrorNotice
          error={current.error}
          what="load the stored policy"
          unavailable="Policies cannot be stored yet; drafting and preview still work."
        />
      )}
      {rollback.error && <ErrorNotice error={rollback.error} what="roll back the policy" />}
      {(save.isSuccess || rollback.isSuccess) && !dirty && (
        <div className="notice notice-good">
          Saved. Agents receive the new version with their next configuration push.
        </div>
      )}
      <div className="policy-layout">
        <Card
          title={current.data ? `Editor — based on v${current.data.version}${dirty ? ' (edited)' : ''}` : 'Editor'}
          className="policy-editor"
        >
          <textarea
            className="mono editor"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
            readOnly={!admin}
            aria-label="Policy document (JSON)"
            aria-invalid={!parsed.ok}
          />
          {!parsed.ok && (
            <div className="field-problem" role="alert">
              {parsed.error}
            </div>
          )}
          {saveIssues.length > 0 && (
            <ul className="issue-list" role="alert">
              {saveIssues.map((i) => (
                <li key={`${i.path}:${i.message}`}>
                  <code>{i.path || 'policy'}</code> {i.message}
                </li>
              ))}
            </ul>
          )}
          {save.error && saveIssues.length === 0 && <ErrorNotice error={save.error} what="save the policy" />}
          {!admin && <p className="muted small">Read-only: only admins change policies. You can still preview.</p>}
        </Card>
        <PolicyPreviewPane policy={parsed.ok ? parsed.value : null} />
      </div>
      <PolicyHistory
        draft={text}
        currentVersion={current.data?.version ?? null}
        canRollback={admin}
        onRollback={(v) => rollback.mutate(v.version)}
        rollingBack={rollback.isPending}
      />
    </div>
  );
}
