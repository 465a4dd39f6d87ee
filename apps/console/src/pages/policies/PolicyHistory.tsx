import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { PolicyView } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { Card, EmptyState, ErrorNotice, Loading } from '../../components/ui.js';
import { formatDateTime } from '../../lib/format.js';
import { lineDiff } from '../../lib/line-diff.js';

/** Saved versions, newest first; pick one to see how it differs from the editor, and roll back to it. */
export function PolicyHistory({
  draft,
  currentVersion,
  canRollback,
  onRollback,
  rollingBack,
}: {
  draft: string;
  currentVersion: number | null;
  canRollback: boolean;
  onRollback: (v: PolicyView) => void;
  rollingBack: boolean;
}) {
  const api = useApi();
  const versions = useQuery({ queryKey: ['policy-versions'], queryFn: api.policies.versions });
  const [selected, setSelected] = useState<number | null>(null);
  const chosen = versions.data?.items.find((v) => v.version === selected) ?? null;

  return (
    <Card title="Version history">
      {versions.error ? (
        <ErrorNotice error={versions.error} what="load the policy history" />
      ) : !versions.data ? (
        <Loading />
      ) : versions.data.items.length === 0 ? (
        <EmptyState title="No saved versions yet">
          Each save creates a version you can compare with and roll back to.
        </EmptyState>
      ) : (
        <div className="history">
          <ul className="history-list">
            {versions.data.items.map((v) => (
              <li key={v.version}>
                <button
                  type="button"
                  className={`history-item ${v.version === selected ? 'active' : ''}`}
                  onClick={() => setSelected(v.version)}
                >
                  <strong>v{v.version}</strong>
                  {v.version === currentVersion && <span className="muted"> · current</span>}
                  <span className="muted small">
                    {v.createdAt === null ? 'built-in default' : formatDateTime(v.createdAt)}
                    {v.createdBy ? ` · ${v.createdBy}` : ''}
                    {v.restoredFrom !== null ? ` · rollback to v${v.restoredFrom}` : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <div className="history-diff">
            {!chosen ? (
              <p className="muted">Pick a version to compare it with the editor.</p>
            ) : (
              <>
                <div className="diff-bar">
                  <span className="muted small">
                    <span className="diff-removed-key">− v{chosen.version}</span>{' '}
                    <span className="diff-added-key">+ editor</span>
                  </span>
                  {canRollback && chosen.version !== currentVersion && (
                    <button
                      type="button"
                      className="button button-small"
                      disabled={rollingBack}
                      onClick={() => {
                        if (window.confirm(`Roll back to v${chosen.version}? It is saved as a new version.`))
                          onRollback(chosen);
                      }}
                    >
                      Roll back to v{chosen.version}
                    </button>
                  )}
                </div>
                <pre className="diff">
                  {lineDiff(JSON.stringify(chosen.policy, null, 2), draft).map((line, i) => (
                    <div key={i} className={`diff-${line.type}`}>
                      {line.type === 'added' ? '+ ' : line.type === 'removed' ? '− ' : '  '}
                      {line.text}
                    </div>
                  ))}
                </pre>
              </>
            )}
          </div>
        </div>
      )}
    </Card>
  );
}
