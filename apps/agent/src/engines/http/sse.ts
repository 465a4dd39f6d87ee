/** One server-sent event as parsed: `data` lines joined with "\n". */
export interface SseEvent {
  event?: string;
  id?: string;
  retry?: number;
  data: string;
}

export class SseError extends Error {
  override readonly name = 'SseError';
}

export interface SseParser {
  /** Feeds the next chunk of the stream (any split: mid-line, mid-"\r\n", mid-UTF-8 is the caller's). */
  feed(chunk: string): void;
  /** The stream ended: an unterminated event is dropped, as browsers do. */
  end(): void;
}

/** Longest line the parser keeps while waiting for its end (an event's data is checked too). */
export const DEFAULT_MAX_SSE_LINE = 1024 * 1024;

/**
 * SSE parser in the style of eventsource-parser: knows no transport, keeps a partial line as one
 * fragment across chunks, remembers a "\r" at a chunk's end (so "\r\n" split in two counts once),
 * and fails with SseError when a line or an event grows past `maxBytes` instead of buffering
 * without bound. Comments (":" lines) are dropped.
 */
export function createSseParser(
  onEvent: (event: SseEvent) => void,
  onError: (error: SseError) => void,
  maxBytes = DEFAULT_MAX_SSE_LINE,
): SseParser {
  let fragment = '';
  let afterCr = false;
  let failed = false;
  let data: string[] = [];
  let dataBytes = 0;
  let eventName: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;

  const fail = (message: string) => {
    failed = true;
    fragment = '';
    onError(new SseError(message));
  };

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0) onEvent({ event: eventName, id, retry, data: data.join('\n') });
      data = [];
      dataBytes = 0;
      eventName = undefined;
      retry = undefined;
      return;
    }
    if (text.charCodeAt(0) === 58 /* : */) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        dataBytes += value.length;
        if (dataBytes > maxBytes) return fail(`an event is longer than ${maxBytes} characters`);
        data.push(value);
        return;
      case 'event':
        eventName = value;
        return;
      case 'id':
        if (!value.includes('\0')) id = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        return;
      default:
        // Unknown fields are ignored by the spec; a line that is not "field: value" at all
        // (e.g. raw JSON) means the upstream is not speaking SSE.
        if (!/^[A-Za-z_-]+$/.test(field)) fail(`not an SSE line: ${JSON.stringify(text.slice(0, 40))}`);
    }
  }

  return {
    feed(chunk) {
      if (failed || chunk.length === 0) return;
      let start = 0;
      if (afterCr && chunk.charCodeAt(0) === 10) start = 1;
      afterCr = false;
      // Fast path: scan for the next line end with indexOf on both terminators.
      while (start < chunk.length && !failed) {
        const lf = chunk.indexOf('\n', start);
        const cr = chunk.indexOf('\r', start);
        if (lf === -1 && cr === -1) break;
        const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
        const text = fragment ? fragment + chunk.slice(start, end) : chunk.slice(start, end);
        fragment = '';
        line(text);
        if (chunk.charCodeAt(end) === 13) {
          if (end + 1 === chunk.length) afterCr = true;
          else if (chunk.charCodeAt(end + 1) === 10) {
            start = end + 2;
            continue;
          }
        }
        start = end + 1;
      }
      if (failed || start >= chunk.length) return;
      fragment += chunk.slice(start);
      if (fragment.length > maxBytes) fail(`a line is longer than ${maxBytes} characters`);
    },
    end() {
      fragment = '';
      data = [];
    },
  };
}

/** Serialises an event; multi-line data becomes several data lines. */
export function formatSse(event: { event?: string; id?: string; data: string }): string {
  let out = '';
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  out += event.data.includes('\n') ? event.data.split('\n').map((d) => `data: ${d}\n`).join('') : `data: ${event.data}\n`;
  return out + '\n';
}
