import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init } from '../sql/analyze.js';
import { parsePolicy, type PolicyInput } from '../policy/schema.js';
import { BODY_LIMITS, parseJsonPath } from './body.js';
import { compilePolicy, decide, type DecisionRequest } from './decide.js';

before(() => init());

const now = new Date('2026-11-25T12:00:00Z');
const carol = { subject: 'carol', groups: ['analysts'] };
const post = (body: unknown, raw?: string): DecisionRequest => ({
  connection: 'demo-llm',
  identity: carol,
  http: {
    method: 'POST',
    path: '/v1/chat/completions',
    body,
    raw: raw === undefined ? undefined : new TextEncoder().encode(raw),
  },
});
const chat = (...contents: string[]) => ({
  model: 'gpt-4o-mini',
  max_tokens: 200,
  messages: contents.map((content) => ({ role: 'user', content })),
});
const policyWith = (rules: PolicyInput['rules'], defaultAction: 'allow' | 'block' = 'allow') =>
  compilePolicy({ version: 3, defaultAction, rules });

describe('JSON-path conditions', () => {
  const compiled = policyWith([
    {
      id: 'no-expensive',
      match: { httpBody: [{ path: '$.model', in: ['gpt-4-expensive', 'o1-pro'] }] },
      action: 'block',
    },
    {
      id: 'token-cap',
      match: { httpBody: [{ path: '$.max_tokens', gt: 4000 }] },
      action: 'block',
      reason: 'ask for at most 4000 tokens',
    },
    { id: 'no-tools', match: { httpBody: [{ path: '$.tools', exists: true }] }, action: 'review' },
    {
      id: 'system-prompt-secret',
      match: { httpBody: [{ path: "$.messages[*]['content']", matches: 'BEGIN (RSA )?PRIVATE KEY' }] },
      action: 'block',
    },
    {
      id: 'last-from-tool',
      match: {
        httpBody: [
          { path: '$.messages[-1].role', equals: 'tool' },
          { path: '$..name', exists: true },
        ],
      },
      action: 'block',
    },
  ]);
  const action = (body: unknown) => {
    const d = decide(post(body), compiled, now);
    return [d.action, d.ruleId];
  };

  test('match and non-match for each kind of test', () => {
    assert.deepEqual(action(chat('hello')), ['allow', undefined]);
    assert.deepEqual(action({ ...chat('hello'), model: 'gpt-4-expensive' }), ['block', 'no-expensive']);
    assert.deepEqual(action({ ...chat('hello'), model: 'gpt-4-expensive-not' }), ['allow', undefined]);
    assert.deepEqual(action({ ...chat('hello'), max_tokens: 4001 }), ['block', 'token-cap']);
    assert.deepEqual(action({ ...chat('hello'), max_tokens: 4000 }), ['allow', undefined]);
    assert.deepEqual(
      action({ ...chat('hello'), max_tokens: '9999' }),
      ['allow', undefined],
      'gt compares numbers only',
    );
    assert.deepEqual(action({ ...chat('hello'), tools: [] }), ['review', 'no-tools']);
    assert.deepEqual(action(chat('hi', 'key: -----BEGIN RSA PRIVATE KEY----- ...')), ['block', 'system-prompt-secret']);
    const toolLast = {
      messages: [
        { role: 'user', content: 'x' },
        { role: 'tool', content: 'y', name: 'lookup' },
      ],
    };
    assert.deepEqual(action(toolLast), ['block', 'last-from-tool']);
    assert.deepEqual(
      action({
        messages: [
          { role: 'tool', content: 'y', name: 'f' },
          { role: 'user', content: 'x' },
        ],
      }),
      ['allow', undefined],
    );
    assert.deepEqual(
      action({ messages: [{ role: 'tool', content: 'y' }] }),
      ['allow', undefined],
      'every condition must hold',
    );
  });

  test('the decision names the rule and explains each one tried', () => {
    const d = decide(post({ ...chat('hello'), max_tokens: 9000 }), compiled, now);
    assert.equal(d.reason, 'ask for at most 4000 tokens');
    assert.equal(d.policyVersion, 3);
    assert.deepEqual(
      d.considered.map((c) => [c.ruleId, c.matched]),
      [
        ['no-expensive', false],
        ['token-cap', true],
      ],
    );
    assert.match(d.considered[0]!.why, /^body: \$\.model \{"in":\["gpt-4-expensive","o1-pro"\]\} does not hold$/);
  });

  test('a body that is not JSON selects nothing; a SQL statement is not an HTTP request', () => {
    assert.deepEqual(decide(post(undefined, 'model=gpt-4-expensive'), compiled, now).action, 'allow');
    const d = decide({ connection: 'demo-llm', identity: carol, sql: analyzeSql('select 1') }, compiled, now);
    assert.equal(d.considered[0]!.why, 'not an HTTP request');
  });

  test('allow rules: every selected value must pass ("only these"); block rules: any', () => {
    const c = policyWith(
      [
        {
          id: 'user-and-system-only',
          match: { httpBody: [{ path: '$.messages[*].role', in: ['user', 'system'] }] },
          action: 'allow',
        },
        {
          id: 'any-tool-message',
          match: { httpBody: [{ path: '$.messages[*].role', equals: 'tool' }] },
          action: 'block',
        },
      ],
      'block',
    );
    const roles = (...r: string[]) => ({ messages: r.map((role) => ({ role, content: '' })) });
    assert.equal(decide(post(roles('system', 'user')), c, now).ruleId, 'user-and-system-only');
    assert.equal(decide(post(roles('user', 'tool')), c, now).ruleId, 'any-tool-message');
    assert.equal(decide(post(roles('user', 'assistant')), c, now).ruleId, undefined);
    assert.equal(decide(post({ messages: [] }), c, now).ruleId, undefined, 'an allow rule needs a value to check');
  });
});

describe('keywords', () => {
  const compiled = policyWith([
    { id: 'no-sql-drop', match: { keywords: ['drop table', 'truncate', 'rm -rf', 'café'] }, action: 'block' },
  ]);
  const found = (body: unknown, raw?: string) => {
    const d = decide(post(body, raw), compiled, now);
    return d.action === 'block' ? d.considered[0]!.why : undefined;
  };

  test('case-insensitive, whitespace-tolerant, word-bounded, named in the explanation', () => {
    assert.equal(found(chat('please DROP   TABLE users')), 'all conditions hold (keyword "drop table")');
    assert.equal(found(chat('(drop\ntable)')), 'all conditions hold (keyword "drop table")');
    assert.equal(found(chat('then Truncate.')), 'all conditions hold (keyword "truncate")');
    assert.equal(found(chat('sudo rm -rf /')), 'all conditions hold (keyword "rm -rf")');
    assert.equal(found(chat('au CAFÉ!')), 'all conditions hold (keyword "café")');
    for (const text of ['the backdrop table', 'drop tables', 'truncated', 'untruncate', 'cafés', 'drop-table']) {
      assert.equal(found(chat(text)), undefined, text);
    }
  });

  test('invisible characters and compatibility forms do not hide a keyword', () => {
    for (const text of ['dr\u200bop table', 'DROP\u00ad TABLE', '\uff24\uff32\uff2f\uff30 table', 'trun\u200dcate', 'caf\u0065\u0301']) {
      assert.ok(found(chat(text)), JSON.stringify(text));
    }
  });

  test('found in any string value, never across two values, nor in keys or numbers', () => {
    assert.ok(found({ deep: [{ a: { b: ['x', 'time to drop table'] } }] }));
    assert.equal(found(chat('drop', 'table')), undefined);
    assert.equal(found({ 'drop table': 1, truncate: true }), undefined);
  });

  test('a body that is not JSON is searched as text', () => {
    assert.ok(found(undefined, 'query=1;DROP TABLE x'));
    assert.equal(found(undefined, 'dropped tables'), undefined);
  });
});

describe('limits: the walk is bounded and fails closed', () => {
  const compiled = policyWith(
    [
      { id: 'kw', match: { keywords: ['forbidden'] }, action: 'block' },
      { id: 'deep-name', match: { httpBody: [{ path: '$..secret', exists: true }] }, action: 'block' },
      { id: 'small-only', match: { httpBody: [{ path: '$..role', in: ['user'] }] }, action: 'allow' },
    ],
    'block',
  );
  const nested = (depth: number, leaf: unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = { role: 'user', next: v };
    return v;
  };

  test('a body nested deeper than the limit is treated as matching by block rules', () => {
    const d = decide(post(nested(BODY_LIMITS.depth + 10, 'ok')), compiled, now);
    assert.deepEqual([d.action, d.ruleId], ['block', 'kw']);
    assert.match(d.reason!, /^blocked by rule kw \(the body is too large or too deeply nested to check fully/);
    assert.match(d.considered[0]!.why, /treated as matching \(fail closed\)$/);
  });

  test('within the limit the same shape is checked for real', () => {
    const d = decide(post(nested(BODY_LIMITS.depth - 2, 'ok')), compiled, now);
    assert.deepEqual([d.action, d.ruleId], ['allow', 'small-only']);
    const withWord = decide(post(nested(BODY_LIMITS.depth - 2, 'a forbidden word')), compiled, now);
    assert.deepEqual([withWord.action, withWord.ruleId, withWord.reason], ['block', 'kw', 'blocked by rule kw']);
  });

  test('an allow rule does not match on a partial check', () => {
    const c = policyWith(
      [{ id: 'small-only', match: { httpBody: [{ path: '$..role', in: ['user'] }] }, action: 'allow' }],
      'block',
    );
    const d = decide(post(nested(BODY_LIMITS.depth + 1, 'ok')), c, now);
    assert.deepEqual([d.action, d.ruleId], ['block', undefined]);
    assert.match(d.considered[0]!.why, /an allow rule does not match on a partial check$/);
  });

  test('more values than the budget: a hit found before the limit still decides, a miss fails closed', () => {
    const many = new Array(BODY_LIMITS.values + 10).fill(0);
    const started = performance.now();
    const miss = decide(post({ input: many, note: 'fine' }), compiled, now);
    assert.deepEqual([miss.action, miss.ruleId], ['block', 'kw']);
    assert.match(miss.reason!, /too large or too deeply nested/);
    const hit = decide(post({ note: 'forbidden', input: many }), compiled, now);
    assert.deepEqual([hit.action, hit.reason], ['block', 'blocked by rule kw']);
    // The budget is shared by every rule of the request: a second walk does not start over.
    const c = policyWith([
      { id: 'first', match: { httpBody: [{ path: '$..secret', exists: true }] }, action: 'block' },
      { id: 'second', match: { httpBody: [{ path: '$..password', exists: true }] }, action: 'block' },
    ]);
    const twoThirds = { input: many.slice(0, Math.ceil((BODY_LIMITS.values * 2) / 3)) };
    const d = decide(post(twoThirds), c, now);
    assert.deepEqual(
      d.considered.map((r) => r.matched),
      [false, true],
    );
    assert.match(d.considered[0]!.why, /does not hold$/);
    assert.match(d.considered[1]!.why, /fail closed/);
    assert.ok(performance.now() - started < 20_000, 'bounded work');
  });

  test('text longer than the character limit: fails closed unless the keyword was already seen', () => {
    const long = 'a'.repeat(BODY_LIMITS.characters + 1);
    assert.match(decide(post({ prompt: long }), compiled, now).reason!, /too large/);
    assert.equal(decide(post({ a: 'forbidden', b: long }), compiled, now).reason, 'blocked by rule kw');
    assert.match(decide(post(undefined, long), compiled, now).reason!, /too large/);
  });
});

describe('schema: bad body rules are refused with the field named', () => {
  const errorsOf = (match: unknown) => {
    const r = parsePolicy({ version: 1, rules: [{ id: 'r', action: 'block', match }] });
    assert.equal(r.ok, false, JSON.stringify(match));
    return (r as { errors: string[] }).errors;
  };

  test('invalid JSON paths', () => {
    const cases: Array<[string, RegExp]> = [
      ['messages[0]', /must start with "\$"/],
      ['$.messages[?(@.role=="user")]', /filters \(\[\?\.\.\.\]\) are not supported at character 12/],
      ['$.messages[0:2]', /slices/],
      ["$['a','b']", /unions/],
      ["$['open", /unterminated quoted name/],
      ['$.', /expected a name or "\*" after "\."/],
      ['$.x-y', /unexpected "-" at character 4/],
      ['$[01]', /expected "\]"/],
    ];
    for (const [path, message] of cases) {
      const errors = errorsOf({
        httpBody: [
          { path: '$.model', exists: true },
          { path, exists: true },
        ],
      });
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /^rules\[0\]\.match\.httpBody\[1\]\.path: invalid JSON path: /);
      assert.match(errors[0]!, message);
    }
  });

  test('unsafe or invalid regular expressions, and conditions without a test', () => {
    assert.match(
      errorsOf({ httpBody: [{ path: '$.a', matches: '(a+)+$' }] })[0]!,
      /^rules\[0\]\.match\.httpBody\[0\]\.matches: nested repetition/,
    );
    assert.match(
      errorsOf({ httpBody: [{ path: '$.a', matches: '(open' }] })[0]!,
      /^rules\[0\]\.match\.httpBody\[0\]\.matches: invalid regular expression/,
    );
    assert.match(
      errorsOf({ httpBody: [{ path: '$.a', matches: 'x', flags: 'g' }] })[0]!,
      /^rules\[0\]\.match\.httpBody\[0\]\.flags: only the flags/,
    );
    assert.match(
      errorsOf({ httpBody: [{ path: '$.a', flags: 'i', equals: 1 }] })[0]!,
      /^rules\[0\]\.match\.httpBody\[0\]\.flags: "flags" goes with "matches"/,
    );
    assert.match(
      errorsOf({ httpBody: [{ path: '$.a', exists: true, equals: 1 }] })[0]!,
      /^rules\[0\]\.match\.httpBody\[0\]\.exists: "exists" stands alone/,
    );
    assert.match(errorsOf({ httpBody: [{ path: '$.a' }] })[0]!, /^rules\[0\]\.match\.httpBody\[0\]: give a test/);
    assert.match(errorsOf({ httpBody: [{ path: '$.a', gt: '5' }] })[0]!, /^rules\[0\]\.match\.httpBody\[0\]\.gt: /);
    assert.match(errorsOf({ httpBody: [] })[0]!, /^rules\[0\]\.match\.httpBody: /);
  });

  test('empty or control-character keywords', () => {
    assert.match(errorsOf({ keywords: ['ok', '   '] })[0]!, /^rules\[0\]\.match\.keywords\[1\]: must not be empty/);
    assert.match(
      errorsOf({ keywords: ['a\u0000b'] })[0]!,
      /^rules\[0\]\.match\.keywords\[0\]: must not contain control characters/,
    );
    assert.match(errorsOf({ keywords: [] })[0]!, /^rules\[0\]\.match\.keywords: /);
  });

  test('the supported subset parses', () => {
    for (const path of [
      '$',
      '$.a',
      '$.a.b_c',
      "$['x-y']",
      '$["it\'s"]',
      "$['a\\'b']",
      '$[0]',
      '$[-1]',
      '$[*]',
      '$.*',
      '$..name',
      '$..*',
      "$..['x y']",
      '$.é',
    ]) {
      assert.ok(parseJsonPath(path).ok, path);
    }
  });
});
