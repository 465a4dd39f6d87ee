import { useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { AuditEntryView, AuditQuery } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { DataTable } from '../../components/DataTable.js';
import { useUrlFilters } from '../../components/use-url-filters.js';
import { Badge, EmptyState, ErrorNotice, Field, Loading, PageHeader } from '../../components/ui.js';
import { fromLocalInput, toLocalInput } from '../../lib/datetime.js';
import { download, toCsv, toJsonl } from '../../lib/export.js';
import { formatDateTime } from '../../lib/format.js';

const FILTERS = ['action', 'actor', 'from', 'to'] as const;

/** An export stops here rather than freeze the tab; narrow the filters for more. */
const EXPORT_LIMIT = 50_000;

const CSV_COLUMNS: { header: string; value: (e: AuditEntryView) => unknown }[] = [
  { header: 'time', value: (e) => e.time },
  { header: 'actor', value: (e) => e.actor },
  { header: 'action', value: (e) => e.action },
  { header: 'target', value: (e) => e.target },
  { header: 'outcome', value: (e) => e.outcome },
  { header: 'details', value: (e) => e.details },
  { header: 'id', value: (e) => e.id },
  { header: 'prev_hash', value: (e) => e.prevHash },
  { header: 'hash', value: (e) => e.hash },
];

export function AuditPage() {
  const api = useApi();
  const { filters, draft, edit, apply } = useUrlFilters(FILTERS);
  const [expanded, setExpanded] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const query: Partial<AuditQuery> = {
    action: filters.action || undefined,
    actor: filters.actor || undefined,
    from: filters.from || undefined,
    to: filters.to || undefined,
  };

  const audit = useInfiniteQuery({
    queryKey: ['audit', query],
    queryFn: ({ pageParam }) => api.audit.list({ ...query, limit: 100, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];

  /** Fetches every page under the current filters, then hands the file to the browser. */
  const exportAs = async (format: 'jsonl' | 'csv') => {
    setExportError(null);
    const all: AuditEntryView[] = [];
    let cursor: string | undefined;
    try {
      do {
        setExporting(`Fetching entries… ${all.length}`);
        const page = await api.audit.list({ ...query, limit: 500, cursor });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && all.length < EXPORT_LIMIT);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'jsonl') download(`portcullis-audit-${stamp}.jsonl`, 'application/x-ndjson', toJsonl(all));
      else download(`portcullis-audit-${stamp}.csv`, 'text/csv', toCsv(all, CSV_COLUMNS));
      if (cursor)
        setExportError(
          new Error(`Exported the first ${all.length} entries only; narrow the filters to export the rest.`),
        );
    } catch (error) {
      setExportError(error);
    } finally {
      setExporting(null);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Audit log"
        description="Every change and sign-in the control plane made or saw, newest first. Each entry carries the hash of the one before it."
        actions={
          <>
            <button type="button" className="button" disabled={exporting !== null} onClick={() => void exportAs('csv')}>
              Export CSV
            </button>
            <button
              type="button"
              className="button"
              disabled={exporting !== null}
              onClick={() => void exportAs('jsonl')}
            >
              Export JSONL
            </button>
          </>
        }
      />
      {exporting && <div className="notice notice-info">{exporting}</div>}
      {exportError !== null && <ErrorNotice error={exportError} what="export the audit log" />}
      <form className="filters" onSubmit={apply}>
        <Field label="Action">
          <input
            value={draft.action}
            onChange={(e) => edit('action', e.target.value)}
            placeholder="connection.create"
          />
        </Field>
        <Field label="Actor">
          <input value={draft.actor} onChange={(e) => edit('actor', e.target.value)} placeholder="alice" />
        </Field>
        <Field label="From">
          <input
            type="datetime-local"
            value={toLocalInput(draft.from)}
            onChange={(e) => edit('from', fromLocalInput(e.target.value))}
          />
        </Field>
        <Field label="To">
          <input
            type="datetime-local"
            value={toLocalInput(draft.to)}
            onChange={(e) => edit('to', fromLocalInput(e.target.value))}
          />
        </Field>
        <div className="filters-actions">
          <button type="submit" className="button button-primary">
            Filter
          </button>
        </div>
      </form>
      {audit.error ? (
        <ErrorNotice error={audit.error} what="load the audit log" onRetry={() => void audit.refetch()} />
      ) : !audit.data ? (
        <Loading />
      ) : (
        <DataTable<AuditEntryView>
          rows={rows}
          rowKey={(e) => e.id}
          onRowClick={(e) => setExpanded(expanded === e.id ? null : e.id)}
          empty={
            <EmptyState title="No audit entries match">
              Changes made in the console or with the CLI are recorded here.
            </EmptyState>
          }
          footer={
            audit.hasNextPage && (
              <button
                type="button"
                className="button"
                onClick={() => void audit.fetchNextPage()}
                disabled={audit.isFetchingNextPage}
              >
                {audit.isFetchingNextPage ? 'Loading…' : 'Load older entries'}
              </button>
            )
          }
          columns={[
            { header: 'Time', cell: (e) => formatDateTime(e.time), width: '12rem' },
            { header: 'Actor', cell: (e) => e.actor },
            { header: 'Action', cell: (e) => <code>{e.action}</code> },
            { header: 'Target', cell: (e) => e.target ?? <span className="muted">—</span> },
            {
              header: 'Outcome',
              cell: (e) => (
                <Badge
                  tone={
                    e.outcome === 'ok' || e.outcome === 'success'
                      ? 'good'
                      : e.outcome === 'denied' || e.outcome === 'error'
                        ? 'bad'
                        : 'neutral'
                  }
                >
                  {e.outcome}
                </Badge>
              ),
            },
            {
              header: 'Details',
              cell: (e) =>
                expanded === e.id ? (
                  <pre className="details-json">
                    {JSON.stringify({ ...e.details, hash: e.hash, prevHash: e.prevHash }, null, 2)}
                  </pre>
                ) : (
                  <span className="muted small truncate">
                    {Object.keys(e.details).length ? JSON.stringify(e.details) : '—'}
                  </span>
                ),
            },
          ]}
        />
      )}
    </div>
  );
}
