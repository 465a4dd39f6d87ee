import { useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { EventView } from '@portcullis/api';
import { Badge, decisionTone, EmptyState, Loading } from '../../components/ui.js';
import { formatDateTime, formatOffset } from '../../lib/format.js';
import {
  maskedTotals,
  playbackDelayMs,
  readStatement,
  step as clampStep,
  type RecordedStatement,
} from '../../lib/replay.js';
import { EventDetail } from './EventDetail.js';

const SPEEDS = [1, 2, 5, 10, 50];

/**
 * Step-by-step replay of recorded events: a virtualised list (fast at 10k events, loading further
 * pages as it nears the end) and the selected event in full. Playback waits the recorded gap
 * between events, divided by the speed.
 */
export function Replay({
  events,
  hasMore,
  loadingMore,
  loadMore,
  step,
  onStep,
}: {
  events: EventView[];
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  step: number;
  onStep: (index: number) => void;
}) {
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const statements = useMemo(() => events.map(readStatement), [events]);
  const times = useMemo(() => events.map((e) => e.time), [events]);
  const totals = useMemo(() => maskedTotals(statements), [statements]);
  const blocked = useMemo(() => statements.filter((s) => s?.decision?.action === 'block').length, [statements]);
  const current = Math.min(step, Math.max(0, events.length - 1));
  const origin = events[0] ? Date.parse(events[0].time) : 0;

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: events.length + (hasMore ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 44,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastVisible = items.at(-1)?.index ?? 0;

  // Load the next page as the list (or the requested step) nears the end of what is loaded.
  useEffect(() => {
    if (hasMore && !loadingMore && (lastVisible >= events.length - 20 || step >= events.length - 1)) loadMore();
  }, [hasMore, loadingMore, lastVisible, step, events.length, loadMore]);

  // Follow the step, but not each page load: someone scrolling ahead must not be pulled back.
  const hasEvents = events.length > 0;
  useEffect(() => {
    if (hasEvents) virtualizer.scrollToIndex(current, { align: 'auto' });
  }, [current, hasEvents, virtualizer]);

  useEffect(() => {
    if (!playing) return;
    const delay = playbackDelayMs(times, current, speed);
    if (delay === null) {
      if (!hasMore) setPlaying(false); // the end; otherwise wait for the next page to arrive
      return;
    }
    const timer = setTimeout(() => onStep(current + 1), delay);
    return () => clearTimeout(timer);
  }, [playing, current, speed, times, hasMore, onStep]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      if (e.key === 'ArrowDown' || e.key === 'j') onStep(clampStep(current, 1, events.length));
      else if (e.key === 'ArrowUp' || e.key === 'k') onStep(clampStep(current, -1, events.length));
      else if (e.key === ' ') setPlaying((p) => !p);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [current, events.length, onStep]);

  if (events.length === 0) {
    return loadingMore || hasMore ? (
      <Loading label="Loading events…" />
    ) : (
      <EmptyState title="No events recorded for this session yet" />
    );
  }
  const event = events[current]!;

  return (
    <div className="replay">
      <div className="replay-controls" role="toolbar" aria-label="Replay">
        <button
          type="button"
          className="button button-small"
          onClick={() => onStep(0)}
          disabled={current === 0}
          title="First event"
        >
          First
        </button>
        <button
          type="button"
          className="button button-small"
          onClick={() => onStep(clampStep(current, -1, events.length))}
          disabled={current === 0}
          title="Step back (↑ or k)"
        >
          ◀ Back
        </button>
        <button
          type="button"
          className="button button-small button-primary"
          onClick={() => setPlaying((p) => !p)}
          title="Play at the recorded pace (space)"
        >
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        <button
          type="button"
          className="button button-small"
          onClick={() => onStep(clampStep(current, 1, events.length))}
          disabled={current >= events.length - 1}
          title="Step forward (↓ or j)"
        >
          Forward ▶
        </button>
        <label className="speed">
          Speed
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <span className="replay-position muted">
          Event {current + 1} of {events.length}
          {hasMore ? '+' : ''} · idle gaps over 3 s are shortened
        </span>
        <span
          className="replay-summary"
          title={hasMore ? 'Counted over the events loaded so far' : 'Counted over the whole recording'}
        >
          {hasMore && (blocked > 0 || Object.keys(totals).length > 0) && <span className="muted small">so far: </span>}
          {blocked > 0 && <Badge tone="bad">{blocked} blocked</Badge>}
          {Object.entries(totals).map(([entity, n]) => (
            <Badge key={entity} tone="warn">
              {n} {entity} masked
            </Badge>
          ))}
        </span>
      </div>

      <div className="replay-body">
        <div className="replay-list" ref={scrollRef} tabIndex={0} aria-label="Recorded events">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((row) => {
              const e = events[row.index];
              return (
                <div
                  key={row.key}
                  className={`replay-row ${row.index === current ? 'selected' : ''}`}
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    height: row.size,
                    transform: `translateY(${row.start}px)`,
                  }}
                  onClick={e ? () => onStep(row.index) : undefined}
                >
                  {e ? (
                    <EventRow
                      event={e}
                      statement={statements[row.index] ?? null}
                      offsetMs={Date.parse(e.time) - origin}
                    />
                  ) : (
                    <span className="muted">Loading more events…</span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
        <div className="replay-detail">
          <EventDetail
            event={event}
            statement={statements[current] ?? null}
            offsetMs={Date.parse(event.time) - origin}
          />
          <p className="muted small">
            Recorded {formatDateTime(event.time)} · seq {event.seq}
          </p>
        </div>
      </div>
    </div>
  );
}

function EventRow({
  event,
  statement,
  offsetMs,
}: {
  event: EventView;
  statement: RecordedStatement | null;
  offsetMs: number;
}) {
  const label =
    event.type === 'session_start'
      ? 'Session opened'
      : event.type === 'session_end'
        ? 'Session closed'
        : statement?.text || '(empty statement)';
  return (
    <>
      <span className="replay-offset mono">{formatOffset(offsetMs)}</span>
      <span className="replay-kind">
        {event.type === 'statement' ? statement?.kind || 'stmt' : event.type === 'session_start' ? 'start' : 'end'}
      </span>
      <span className="replay-text mono">{label}</span>
      {statement?.decision && <Badge tone={decisionTone(statement.decision.action)}>{statement.decision.action}</Badge>}
      {statement?.error && <Badge tone="bad">error</Badge>}
    </>
  );
}
