import { useState } from 'react';
import type { AuditEntryView, AuditQuery } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { FilterBar, type FilterInput } from '../../components/FilterBar.js';
import { PagedTable, usePagedQuery } from '../../components/PagedTable.js';
import { useUrlFilters } from '../../components/use-url-filters.js';
import { Badge, EmptyState, ErrorNotice, PageHeader } from '../../components/ui.js';
import { download, toCsv, toJsonl } from '../../lib/export.js';
import { formatDateTime } from '../../lib/format.js';

const FILTERS = ['action', 'actor', 'from', 'to'] as const;
const FILTER_INPUTS: FilterInput<(typeof FILTERS)[number]>[] = [
  { key: 'action', label: 'Action', placeholder: 'connection.create' },
  { key: 'actor', label: 'Actor', placeholder: 'alice' },
  { key: 'from', label: 'From', instant: true },
  { key: 'to', label: 'To', instant: true },
];

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
  const filters = useUrlFilters(FILTERS);
  const { action, actor, from, to } = filters.filters;
  const [expanded, setExpanded] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const query: Partial<AuditQuery> = {
    action: action || undefined,
    actor: actor || undefined,
    from: from || undefined,
    to: to || undefined,
  };
  const audit = usePagedQuery(['audit', query], (cursor) => api.audit.list({ ...query, limit: 100, cursor }));

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
      <FilterBar filters={filters} inputs={FILTER_INPUTS} submitLabel="Filter" />
      <PagedTable<AuditEntryView>
        pages={audit}
        what="load the audit log"
        moreLabel="Load older entries"
        rowKey={(e) => e.id}
        onRowClick={(e) => setExpanded(expanded === e.id ? null : e.id)}
        empty={
          <EmptyState title={filters.active ? 'No audit entries match these filters' : 'No audit entries yet'}>
            Changes made in the console or with the CLI are recorded here.
          </EmptyState>
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
                    : e.outcome === 'denied' || e.outcome === 'error' || e.outcome === 'failed'
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
    </div>
  );
}
