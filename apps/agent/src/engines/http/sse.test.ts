import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSseParser, formatSse, type SseEvent } from './sse.js';

function parseAll(chunks: string[], max?: number): { events: SseEvent[]; errors: string[] } {
  const events: SseEvent[] = [];
  const errors: string[] = [];
  const parser = createSseParser((e) => events.push(e), (e) => errors.push(e.message), max);
  for (const c of chunks) parser.feed(c);
  parser.end();
  return { events, errors };
}

// Built independently of the parser: the expected events of STREAM.
const STREAM =
  ': comment\r\n' +
  'event: message_start\r\ndata: {"a":1}\r\n\r\n' +
  'data: line one\ndata: line two\n\n' +
  'id: 7\rdata:no-space\r\r' +
  'data: [DONE]\n\n';
const EXPECTED: SseEvent[] = [
  { event: 'message_start', id: undefined, retry: undefined, data: '{"a":1}' },
  { event: undefined, id: undefined, retry: undefined, data: 'line one\nline two' },
  { event: undefined, id: '7', retry: undefined, data: 'no-space' },
  { event: undefined, id: '7', retry: undefined, data: '[DONE]' },
];

describe('SSE parser', () => {
  it('parses LF, CR and CRLF line ends, comments, multi-line data', () => {
    assert.deepEqual(parseAll([STREAM]).events, EXPECTED);
  });

  it('gives the same events at every split point, and at every pair of split points', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i)]).events, EXPECTED, `split at ${i}`);
    }
    for (let i = 0; i <= STREAM.length; i += 3)
      for (let j = i; j <= STREAM.length; j += 2)
        assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]).events, EXPECTED);
    assert.deepEqual(parseAll([...STREAM]).events, EXPECTED, 'one character at a time');
  });

  it('drops an unterminated last event', () => {
    assert.deepEqual(parseAll(['data: a\n\ndata: b\n']).events.map((e) => e.data), ['a']);
  });

  it('fails on a line longer than the limit instead of buffering it', () => {
    const { events, errors } = parseAll(['data: ' + 'x'.repeat(50), 'y'.repeat(60)], 100);
    assert.equal(events.length, 0);
    assert.match(errors[0]!, /longer than 100/);
  });

  it('fails on a line that is not SSE (raw JSON)', () => {
    const { errors } = parseAll(['{"choices":[]}\n\n']);
    assert.match(errors[0]!, /not an SSE line/);
  });

  it('round-trips what formatSse writes', () => {
    const e = { event: 'x', id: '1', data: 'a\nb' };
    assert.deepEqual(parseAll([formatSse(e)]).events, [{ ...e, retry: undefined }]);
  });
});
