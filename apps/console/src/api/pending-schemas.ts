import { z } from 'zod';
import { EventView, SessionView } from '@portcullis/api';

/*
 * Answers of endpoints the control plane does not have yet, so @portcullis/api has no schema for
 * them. These are the shapes the console reads (lenient: extra fields pass); when an endpoint lands,
 * its schema belongs in packages/api and this file shrinks.
 */

/** GET /traces/:id → every session and event that carried one trace id, in order. */
export const TraceView = z.looseObject({
  id: z.string(),
  sessions: z.array(SessionView).default([]),
  events: z.array(EventView),
});
export type TraceView = z.infer<typeof TraceView>;
