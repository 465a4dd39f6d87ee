import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventView } from '@portcullis/api';
import { maskedTotals, playbackDelayMs, readStatement, step } from './replay.js';

function event(partial: Partial<EventView>): EventView {
  return {
    seq: 1,
    sessionId: 's',
    time: '2026-11-25T10:00:00.000Z',
    type: 'statement',
    statementIndex: 0,
    kind: null,
    text: null,
    traceId: null,
    action: null,
    data: {},
    ...partial,
  };
}

describe('replay stepping', () => {
  it('moves within the loaded events and stops at both ends', () => {
    assert.equal(step(0, 1, 3), 1);
    assert.equal(step(2, 1, 3), 2);
    assert.equal(step(0, -1, 3), 0);
    assert.equal(step(1, 10, 3), 2);
    assert.equal(step(5, 0, 0), 0);
  });

  it('waits the recorded gap divided by the speed, shortening idle gaps, and stops at the last event', () => {
    const times = ['2026-11-25T10:00:00.000Z', '2026-11-25T10:00:00.250Z', '2026-11-25T10:05:00.000Z'];
    assert.equal(playbackDelayMs(times, 0, 1), 250);
    assert.equal(playbackDelayMs(times, 0, 5), 50);
    assert.equal(playbackDelayMs(times, 1, 1), 3_000);
    assert.equal(playbackDelayMs(times, 1, 2, 1_000), 500);
    assert.equal(playbackDelayMs(times, 2, 1), null);
  });

  it('never waits a negative time when clocks put events out of order', () => {
    assert.equal(playbackDelayMs(['2026-11-25T10:00:01Z', '2026-11-25T10:00:00Z'], 0, 1), 0);
  });
});

describe('reading a recorded statement', () => {
  const recorded = event({
    kind: 'SELECT',
    text: 'select card from customers',
    action: 'mask',
    data: {
      seq: 7,
      statement: {
        kind: 'SELECT',
        text: 'select card from customers',
        commandTag: 'SELECT 2',
        rowCount: 2,
        durationMs: 1.25,
        result: { columns: ['card'], rows: [['**** **** **** 1111'], [null]], truncated: true },
        decision: {
          action: 'mask',
          ruleIds: ['mask-pii'],
          policyVersion: 3,
          reason: 'analysts see masked cards',
          maskedCounts: { credit_card: 1 },
        },
      },
    },
  });

  it('takes text, timings, decision and the masked result preview from the protobuf JSON', () => {
    const s = readStatement(recorded)!;
    assert.equal(s.text, 'select card from customers');
    assert.equal(s.commandTag, 'SELECT 2');
    assert.equal(s.rowCount, 2);
    assert.equal(s.durationMs, 1.25);
    assert.deepEqual(s.result, { columns: ['card'], rows: [['**** **** **** 1111'], [null]], truncated: true });
    assert.deepEqual(s.decision, {
      action: 'mask',
      reason: 'analysts see masked cards',
      ruleIds: ['mask-pii'],
      policyVersion: 3,
      maskedCounts: { credit_card: 1 },
    });
    assert.equal(s.error, null);
  });

  it('tolerates the fields protobuf JSON leaves out (zero values, no result, no decision)', () => {
    const s = readStatement(event({ data: { statement: { text: 'begin' } } }))!;
    assert.equal(s.text, 'begin');
    assert.equal(s.rowCount, 0);
    assert.equal(s.durationMs, null);
    assert.equal(s.result, null);
    assert.equal(s.decision, null);
  });

  it('reports errors, reads 64-bit numbers sent as strings, and ignores non-statement events', () => {
    const s = readStatement(
      event({
        data: { statement: { errorCode: '42P01', errorMessage: 'relation "x" does not exist', rowCount: '12' } },
      }),
    )!;
    assert.deepEqual(s.error, { code: '42P01', message: 'relation "x" does not exist' });
    assert.equal(s.rowCount, 12);
    assert.equal(readStatement(event({ type: 'session_start' })), null);
  });

  it('adds masked counts across statements', () => {
    const again = readStatement(recorded);
    const other = readStatement(
      event({
        action: 'mask',
        data: { statement: { decision: { action: 'mask', maskedCounts: { email: 2, credit_card: 3 } } } },
      }),
    );
    assert.deepEqual(maskedTotals([again, other, null]), { credit_card: 4, email: 2 });
  });
});
