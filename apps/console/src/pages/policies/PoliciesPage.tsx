import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { PolicyView } from '@portcullis/api';
import { useApi, useUser } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import { can } from '../../auth/capabilities.js';
import { Card, ErrorNotice, Loading, PageHeader } from '../../components/ui.js';
import { sameDocument, type DraftPath, type PolicyDraft } from '../../lib/policy-draft.js';
import {
  checkDraft,
  fieldDomId,
  messagesByField,
  placeIssues,
  serverIssues,
  type FieldProblem,
  type PolicyIssue,
} from '../../lib/policy-issues.js';
import { parsePolicyText, STARTER_POLICY } from '../../lib/policy-text.js';
import { IssueSummary } from './IssueSummary.js';
import { PolicyForm } from './PolicyForm.js';
import { PolicyHistory } from './PolicyHistory.js';
import { PolicyPreviewPane } from './PolicyPreviewPane.js';
import { focusField, PolicyFormProvider } from './policy-fields.js';

const pretty = (policy: Record<string, unknown>) => JSON.stringify(policy, null, 2);

type View = 'form' | 'json';
const VIEWS: { id: View; label: string }[] = [
  { id: 'form', label: 'Form' },
  { id: 'json', label: 'JSON' },
];

export function PoliciesPage() {
  const api = useApi();
  const user = useUser();
  const admin = can(user, 'manage');
  const queryClient = useQueryClient();
  const current = useQuery({ queryKey: ['policy'], queryFn: api.policies.current });
  // The JSON text is the draft: the form edits it through the parsed document, so both views,
  // the preview and the history diff always show the same thing.
  const [text, setText] = useState<string | null>(null);
  const [view, setView] = useState<View>('form');
  const [previewRefusal, setPreviewRefusal] = useState<{ policy: PolicyDraft; issues: PolicyIssue[] } | null>(null);
  const missing = current.error instanceof ApiFailure && current.error.kind === 'missing-endpoint';

  // Start from the saved policy once it arrives (or the starter when there is none to load).
  useEffect(() => {
    if (text !== null) return;
    if (current.data) setText(pretty(current.data.policy));
    else if (current.error) setText(pretty(STARTER_POLICY));
  }, [current.data, current.error, text]);

  const parsed = useMemo(() => (text === null ? null : parsePolicyText(text)), [text]);
  const draft = parsed?.ok ? parsed.value : null;
  const onSaved = async (saved: PolicyView) => {
    queryClient.setQueryData(['policy'], saved);
    setText(pretty(saved.policy));
    await queryClient.invalidateQueries({ queryKey: ['policy-versions'] });
  };
  const save = useMutation({ mutationFn: api.policies.save, onSuccess: onSaved });
  const rollback = useMutation({ mutationFn: api.policies.rollback, onSuccess: onSaved });
  // Compared as documents: the stored version comes back with its keys in PostgreSQL's order.
  const dirty = current.data !== undefined && !(draft && sameDocument(draft, current.data.policy));

  // The control plane's issues are about the draft it was sent: they stand until that draft changes.
  const refusedSave = save.error instanceof ApiFailure && save.variables === draft ? save.error : null;
  const problems: FieldProblem[] = useMemo(() => {
    if (!parsed) return [];
    if (!parsed.ok) return [{ field: [], where: 'JSON', message: parsed.error }];
    const issues = [
      ...checkDraft(parsed.value),
      ...serverIssues(refusedSave?.issues ?? []),
      ...(previewRefusal?.policy === parsed.value ? previewRefusal.issues : []),
    ];
    return placeIssues(issues, parsed.value);
  }, [parsed, refusedSave, previewRefusal]);
  const messages = useMemo(() => messagesByField(problems), [problems]);
  const form = useMemo(
    () =>
      draft && {
        draft,
        problems: messages,
        change: (edit: (d: PolicyDraft) => PolicyDraft) => setText(pretty(edit(draft))),
      },
    [draft, messages],
  );

  const goTo = (field: DraftPath) => {
    const where = field.length === 0 || !draft ? 'json' : 'form';
    setView(where);
    focusField(fieldDomId(field));
  };

  if (text === null || parsed === null) {
    return (
      <div className="page">
        {current.error && !missing ? <ErrorNotice error={current.error} what="load the policy" /> : <Loading />}
      </div>
    );
  }

  const jsonMessages = messages.get('') ?? [];
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
              disabled={problems.length > 0 || save.isPending || (!dirty && !missing)}
              title={problems.length > 0 ? 'Fix the problems listed in the editor first' : undefined}
              onClick={() => draft && save.mutate(draft)}
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
      {save.error && !(save.error instanceof ApiFailure && save.error.issues.length > 0) && (
        <ErrorNotice error={save.error} what="save the policy" />
      )}
      {(save.isSuccess || rollback.isSuccess) && !dirty && (
        <div className="notice notice-good">
          Saved. Agents receive the new version with their next configuration push.
        </div>
      )}
      <div className="policy-layout">
        <Card
          title={current.data ? `Editor — based on v${current.data.version}${dirty ? ' (edited)' : ''}` : 'Editor'}
          className="policy-editor"
          actions={
            <div className="tabs" role="tablist" aria-label="Editor view">
              {VIEWS.map((v) => (
                <button
                  key={v.id}
                  type="button"
                  role="tab"
                  id={`policy-tab-${v.id}`}
                  aria-selected={view === v.id}
                  aria-controls="policy-panel"
                  className={`tab ${view === v.id ? 'active' : ''}`}
                  onClick={() => setView(v.id)}
                >
                  {v.label}
                </button>
              ))}
            </div>
          }
        >
          <IssueSummary problems={problems} onGo={goTo} />
          <div role="tabpanel" id="policy-panel" aria-labelledby={`policy-tab-${view}`}>
            {view === 'json' ? (
              <>
                <textarea
                  id={fieldDomId([])}
                  className="mono editor"
                  value={text}
                  onChange={(e) => setText(e.target.value)}
                  spellCheck={false}
                  readOnly={!admin}
                  aria-label="Policy document (JSON)"
                  aria-invalid={jsonMessages.length > 0}
                  aria-describedby={jsonMessages.length > 0 ? 'policy-json-note' : undefined}
                />
                {jsonMessages.length > 0 && (
                  <div id="policy-json-note" className="field-problem">
                    {jsonMessages.join(' · ')}
                  </div>
                )}
              </>
            ) : form ? (
              <fieldset className="plain-fieldset" disabled={!admin}>
                <PolicyFormProvider value={form}>
                  <PolicyForm />
                </PolicyFormProvider>
              </fieldset>
            ) : (
              <div className="notice notice-warn">
                The JSON is not valid, so the form cannot show it.{' '}
                <button type="button" className="link-button" onClick={() => goTo([])}>
                  Fix it in the JSON view
                </button>
              </div>
            )}
          </div>
          {!admin && <p className="muted small">Read-only: only admins change policies. You can still preview.</p>}
        </Card>
        {/* Held back while the draft has problems, including those a refused preview reported: the
            next edit makes a new draft, which clears them and previews again, so no refusal loops. */}
        <PolicyPreviewPane
          policy={draft && problems.length === 0 ? draft : null}
          inForce={!admin}
          onRefused={(policy, issues) => setPreviewRefusal({ policy, issues: serverIssues(issues) })}
        />
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
