import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventView } from '@portcullis/api';
import { useApi } from '../../app-context.js';

/** The API's maximum: fewer round trips when jumping deep into a long session. */
const PAGE_SIZE = 1000;

/**
 * The events of one session, loaded page by page on demand (a 10k-event session is 10 requests,
 * made only as the user scrolls or plays that far). While the session is live, new events are
 * polled after the last one. Mount with `key={sessionId}` so a new session starts fresh.
 */
export function useSessionEvents(sessionId: string, live: boolean) {
  const api = useApi();
  const [events, setEvents] = useState<EventView[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const after = useRef<number | undefined>(undefined);
  const busy = useRef(false);
  /** Asked while a load was under way: load again once it ends (it may have started too early). */
  const again = useRef(false);
  const mounted = useRef(true);

  const loadMore = useCallback(async (): Promise<void> => {
    if (busy.current) {
      // Not dropped: the last look when a session ends can come during a poll that began before
      // its final events were stored, and no poll follows it.
      again.current = true;
      return;
    }
    busy.current = true;
    setLoading(true);
    try {
      const page = await api.sessions.events(sessionId, after.current, PAGE_SIZE);
      if (!mounted.current) return;
      const last = page.items.at(-1);
      if (last) after.current = last.seq;
      if (page.nextCursor !== null) after.current = Number(page.nextCursor);
      if (page.items.length > 0) setEvents((prev) => prev.concat(page.items));
      setExhausted(page.nextCursor === null);
      setError(null);
    } catch (e) {
      if (mounted.current) setError(e);
    } finally {
      busy.current = false;
      if (mounted.current) setLoading(false);
      if (again.current && mounted.current) {
        again.current = false;
        void loadMore();
      }
    }
  }, [api, sessionId]);

  useEffect(() => {
    mounted.current = true;
    void loadMore();
    return () => {
      mounted.current = false;
    };
  }, [loadMore]);

  useEffect(() => {
    if (!live || !exhausted) return;
    const timer = setInterval(() => void loadMore(), 1_000);
    // One last look when the session ends, for the events recorded since the previous poll.
    return () => {
      clearInterval(timer);
      if (mounted.current) void loadMore();
    };
  }, [live, exhausted, loadMore]);

  return { events, hasMore: !exhausted, loading, error, loadMore };
}
