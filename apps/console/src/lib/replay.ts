import type { EventView } from '@portcullis/api';

/** What one recorded statement or HTTP call carries, read from an event's `data`. */
export interface RecordedStatement {
  text: string;
  kind: string;
  parameters: string[];
  commandTag: string;
  rowCount: number;
  error: { code: string; message: string } | null;
  durationMs: number | null;
  /** What the client saw (masked), capped by the agent. */
  result: { columns: string[]; rows: unknown[][]; truncated: boolean } | null;
  decision: {
    action: string;
    reason: string;
    ruleIds: string[];
    policyVersion: number | null;
    maskedCounts: Record<string, number>;
  } | null;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && v !== '' && Number.isFinite(Number(v))
      ? Number(v)
      : null;

/**
 * Reads the statement of a `statement` event. The agent's recording arrives as protobuf JSON
 * (camelCase, empty fields left out), so every field is optional here; the event's own columns
 * (text, kind, action) win over the copy in `data`.
 */
export function readStatement(event: EventView): RecordedStatement | null {
  if (event.type !== 'statement') return null;
  const s = obj(event.data.statement) ?? {};
  const result = obj(s.result);
  const decision = obj(s.decision);
  const columns = Array.isArray(result?.columns) ? result.columns.map((c) => String(c)) : null;
  const rows = Array.isArray(result?.rows) ? result.rows.filter(Array.isArray) : [];
  const maskedCounts: Record<string, number> = {};
  for (const [entity, count] of Object.entries(obj(decision?.maskedCounts) ?? {})) {
    const n = num(count);
    if (n) maskedCounts[entity] = n;
  }
  const action = event.action ?? (str(decision?.action) || null);
  return {
    text: event.text ?? str(s.text),
    kind: event.kind ?? str(s.kind),
    parameters: Array.isArray(s.parameters) ? s.parameters.map((p) => String(p)) : [],
    commandTag: str(s.commandTag),
    rowCount: num(s.rowCount) ?? 0,
    error: str(s.errorCode) || str(s.errorMessage) ? { code: str(s.errorCode), message: str(s.errorMessage) } : null,
    durationMs: num(s.durationMs),
    result: columns ? { columns, rows, truncated: result?.truncated === true } : null,
    decision: action
      ? {
          action,
          reason: str(decision?.reason),
          ruleIds: Array.isArray(decision?.ruleIds) ? decision.ruleIds.map((r) => String(r)) : [],
          policyVersion: num(decision?.policyVersion),
          maskedCounts,
        }
      : null,
  };
}

/** The step `delta` away from `index`, kept inside [0, total). */
export function step(index: number, delta: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(total - 1, Math.max(0, index + delta));
}

/**
 * How long playback waits on event `index` before moving on: the recorded gap to the next event,
 * divided by the speed. Gaps longer than `maxGapMs` (an idle psql prompt) are shortened to it, so
 * a replay never sits still for minutes; null at the last event.
 */
export function playbackDelayMs(
  times: readonly string[],
  index: number,
  speed: number,
  maxGapMs = 3_000,
): number | null {
  const here = times[index];
  const next = times[index + 1];
  if (here === undefined || next === undefined) return null;
  const gap = Math.max(0, Date.parse(next) - Date.parse(here));
  return Math.min(gap, maxGapMs) / Math.max(speed, 0.01);
}

/** Sum of masked values by entity type across statements, for the session summary. */
export function maskedTotals(statements: readonly (RecordedStatement | null)[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const s of statements) {
    for (const [entity, n] of Object.entries(s?.decision?.maskedCounts ?? {}))
      totals[entity] = (totals[entity] ?? 0) + n;
  }
  return totals;
}
