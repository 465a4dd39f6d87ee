import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bucketByTime } from './buckets.js';
import { formatOffset } from './format.js';
import { problemsByField } from './issues.js';
import { lineDiff } from './line-diff.js';
import { parsePolicyText } from './policy-text.js';
import { sessionQuery } from './session-filters.js';
import { agentEnvSnippet, shellQuote } from './snippets.js';

describe('policy editor text', () => {
  it('says on which line and column the JSON breaks', () => {
    const parsed = parsePolicyText('{\n  "rules": [\n    { "id": "a", }\n  ]\n}');
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.error : '', /line 3, column \d+/);
  });

  it('accepts an object and refuses other JSON values', () => {
    assert.deepEqual(parsePolicyText('{"rules":[]}'), { ok: true, value: { rules: [] } });
    assert.equal(parsePolicyText('[1]').ok, false);
  });
});

describe('line diff', () => {
  it('marks removed and added lines around the common ones', () => {
    assert.deepEqual(lineDiff('a\nb\nc', 'a\nx\nc'), [
      { type: 'same', text: 'a' },
      { type: 'removed', text: 'b' },
      { type: 'added', text: 'x' },
      { type: 'same', text: 'c' },
    ]);
    assert.deepEqual(lineDiff('same', 'same'), [{ type: 'same', text: 'same' }]);
  });
});

describe('field problems', () => {
  it('groups issues by their first path segment, from the API or from zod', () => {
    assert.deepEqual(
      problemsByField([
        { path: 'target', message: 'must be a URL' },
        { path: ['networkLabels', 0], message: 'bad' },
        { path: '', message: 'general' },
      ]),
      { target: ['must be a URL'], networkLabels: ['bad'], form: ['general'] },
    );
  });
});

describe('time buckets', () => {
  it('counts items into their bucket and ignores items outside the window', () => {
    const items = ['2026-11-25T10:00:00Z', '2026-11-25T10:00:59Z', '2026-11-25T10:01:30Z', '2026-11-25T09:59:59Z'];
    const from = Date.parse('2026-11-25T10:00:00Z');
    const buckets = bucketByTime(
      items,
      (t) => t,
      () => 1,
      from,
      from + 120_000,
      2,
    );
    assert.deepEqual(
      buckets.map((b) => b.value),
      [2, 1],
    );
  });
});

describe('agent snippets', () => {
  it('quotes values for the shell', () => {
    assert.equal(shellQuote('plain-value_1'), 'plain-value_1');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(
      agentEnvSnippet({ name: 'a', token: 'pca_x$y', labels: ['eu', 'prod'], controlPlaneGrpc: 'cp:8090' }),
      "PORTCULLIS_CONTROL_PLANE=cp:8090\nPORTCULLIS_AGENT_TOKEN='pca_x$y'\nPORTCULLIS_LABELS=eu,prod",
    );
  });
});

describe('replay offsets', () => {
  it('stay short enough for the list column', () => {
    assert.equal(formatOffset(276.4), '+276 ms');
    assert.equal(formatOffset(12_340), '+12.3 s');
    assert.equal(formatOffset(898_000), '+14:58');
    assert.equal(formatOffset(3_723_000), '+1:02:03');
  });
});

describe('session search filters', () => {
  const none = { identity: '', connection: '', agent: '', outcome: '', from: '', to: '' };
  it('searches a UUID as a subject and anything else as a username', () => {
    assert.deepEqual(sessionQuery({ ...none, identity: ' carol ' }).username, 'carol');
    const bySubject = sessionQuery({ ...none, identity: '6b3f7a52-1c0e-4d8a-9f21-a11ce0000001' });
    assert.equal(bySubject.subject, '6b3f7a52-1c0e-4d8a-9f21-a11ce0000001');
    assert.equal(bySubject.username, undefined);
  });

  it('leaves empty filters out of the query', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(sessionQuery({ ...none, connection: 'demo-pg' }))), {
      connection: 'demo-pg',
    });
  });
});
