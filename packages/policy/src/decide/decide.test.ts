import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init } from '../sql/analyze.js';
import { compilePolicy, columnMaskStyle, decide, type DecisionRequest } from './decide.js';
import { parsePolicy, type PolicyInput } from '../policy/schema.js';
import { maskContextFor } from '../masking/plan.js';
import { maskText } from '../masking/text.js';

before(() => init());

const now = new Date('2026-11-25T12:00:00Z');
const carol = { subject: 'carol', groups: ['analysts'] };
const dave = { subject: 'dave', groups: ['contractors'] };
const pg = (sql: string, identity = carol): DecisionRequest => ({
  connection: 'demo-pg',
  identity,
  sql: analyzeSql(sql),
});

const policy: PolicyInput = {
  version: 7,
  rules: [
    { id: 'no-salaries', match: { tables: ['salaries'] }, action: 'block', reason: 'salaries are off limits' },
    {
      id: 'contractors-masked',
      match: { groups: ['contractors'], statementKinds: ['SELECT'] },
      action: 'mask',
      mask: {
        entities: ['EMAIL', 'US_SSN'],
        columns: [{ table: 'customers', column: 'card_number', style: 'partial' }],
        style: 'redact',
      },
    },
    {
      id: 'bulk-export-review',
      match: { statementKinds: ['SELECT'], hasLimit: false, tables: ['customers'] },
      action: 'review',
    },
    {
      id: 'analysts-read',
      match: { groups: ['analysts'], statementKinds: ['SELECT'], tables: ['customers', 'orders'] },
      action: 'allow',
    },
    { id: 'break-glass', match: { subjects: ['carol'], notAfter: '2026-11-25T13:00:00Z' }, action: 'allow' },
  ],
};
const compiled = compilePolicy(policy);

test('ordered rules: first match per statement, strictest over statements', () => {
  let d = decide(pg('SELECT id FROM customers LIMIT 5'), compiled, now);
  assert.equal(d.action, 'allow');
  assert.equal(d.ruleId, 'analysts-read');
  assert.equal(d.policyVersion, 7);

  d = decide(pg('SELECT * FROM customers c JOIN salaries s ON s.id = c.id LIMIT 1'), compiled, now);
  assert.deepEqual([d.action, d.ruleId, d.reason], ['block', 'no-salaries', 'salaries are off limits']);

  d = decide(pg('SELECT * FROM customers'), compiled, now);
  assert.deepEqual([d.action, d.ruleId], ['review', 'bulk-export-review']);

  d = decide(pg('SELECT id FROM orders LIMIT 1; SELECT * FROM salaries LIMIT 1'), compiled, now);
  assert.equal(d.action, 'block');
  assert.deepEqual(d.ruleIds, ['analysts-read', 'no-salaries']);
});

test('allow rules mean "only these tables"; block rules "any of these"', () => {
  const d = decide(pg('SELECT * FROM customers JOIN invoices USING (id) LIMIT 1'), compiled, now);
  const allowRule = d.considered.find((c) => c.ruleId === 'analysts-read')!;
  assert.equal(allowRule.matched, false);
  assert.equal(allowRule.why, 'touches a table not listed');
  // break-glass (no table list) then allows it, until it expires.
  assert.equal(d.ruleId, 'break-glass');
  const later = decide(
    pg('SELECT * FROM customers JOIN invoices USING (id) LIMIT 1'),
    compiled,
    new Date('2026-11-25T13:00:00Z'),
  );
  assert.deepEqual([later.action, later.ruleId], ['block', undefined]);
  assert.match(later.reason!, /policy default is block/);
});

test('mask rules give a mask plan the agent applies', () => {
  const d = decide(pg('SELECT email, card_number FROM customers LIMIT 10', dave), compiled, now);
  assert.equal(d.action, 'mask');
  assert.deepEqual(d.masks!.entities, ['EMAIL', 'US_SSN']);
  assert.equal(columnMaskStyle(d.masks, { name: 'customers' }, 'card_number'), 'partial');
  assert.equal(columnMaskStyle(d.masks, { name: 'orders' }, 'card_number'), undefined);
  const ctx = maskContextFor(compiled, d)!;
  assert.equal(
    maskText('jane@example.com / 078-05-1121 / 415-555-2671', ctx).text,
    '[EMAIL] / [US_SSN] / 415-555-2671',
  );
});

test('COPY ... TO STDOUT is blocked where its rows would be masked (CopyData is not rewritten)', () => {
  const masked = compilePolicy({ version: 1, defaultAction: 'allow', masking: { entities: ['EMAIL'] } });
  const copy = decide(pg('COPY (SELECT email FROM customers) TO STDOUT'), masked, now);
  assert.equal(copy.action, 'block');
  assert.equal(copy.ruleId, 'mask:copy-to-stdout');
  assert.match(copy.reason!, /read masked data with SELECT/);
  assert.equal(decide(pg('COPY customers FROM STDIN'), masked, now).action, 'mask', 'COPY FROM sends nothing back');
  const plain = compilePolicy({ version: 1, defaultAction: 'allow' });
  assert.equal(decide(pg('COPY customers TO STDOUT'), plain, now).action, 'allow', 'nothing to mask: allowed');
});

test('HTTP requests match on method and path globs', () => {
  const c = compilePolicy({
    version: 1,
    rules: [
      {
        id: 'llm-chat',
        match: { connections: ['demo-llm'], httpMethods: ['POST'], httpPaths: ['/v1/chat/**'] },
        action: 'mask',
        mask: { entities: ['EMAIL'] },
      },
    ],
  });
  const req = (method: string, path: string): DecisionRequest => ({
    connection: 'demo-llm',
    identity: carol,
    http: { method, path },
  });
  assert.equal(decide(req('POST', '/v1/chat/completions'), c, now).action, 'mask');
  assert.equal(decide(req('GET', '/v1/chat/completions'), c, now).action, 'block');
  assert.equal(decide(req('POST', '/v1/embeddings'), c, now).action, 'block');
});

test('validation names the field and the problem', () => {
  const r = parsePolicy({
    version: 1,
    rules: [
      { id: 'a', action: 'mask', mask: { entities: ['EMAIL', 'PASSPORT'] } },
      { id: 'a', action: 'explode' },
    ],
    detectors: {
      custom: [
        { name: 'EMPLOYEE_ID', pattern: '(E-\\d+' },
        { name: 'SLOW', pattern: '(a+)+$' },
        { name: 'SLOWER', pattern: '(a|a)+b' },
        { name: 'FINE', pattern: '(?:EMP|CTR)-\\d{6}' },
        { name: 'PIPES', pattern: '(?:[|;,]\\s?)+x' },
        { name: 'COUNTED', pattern: '(?:\\d|X){9}' },
      ],
    },
    guardrails: { relax: ['drop', 'everything'] },
  });
  assert.equal(r.ok, false);
  const errors = (r as { errors: string[] }).errors.join('\n');
  assert.match(errors, /detectors\.custom\[0\]\.pattern: invalid regular expression: .*/);
  assert.match(errors, /detectors\.custom\[1\]\.pattern: nested repetition/);
  assert.match(errors, /detectors\.custom\[2\]\.pattern: a repeated alternation/);
  assert.doesNotMatch(errors, /detectors\.custom\[[345]\]/, 'not repeated, a | in a character class, a bounded count: fine');
  assert.match(errors, /rules\[1\]\.action: /);
  assert.match(errors, /guardrails\.relax\[1\]: /);
  const second = parsePolicy({
    version: 1,
    rules: [
      { id: 'a', action: 'mask', mask: { entities: ['EMAIL', 'PASSPORT'] } },
      { id: 'a', action: 'allow' },
    ],
  });
  const e2 = (second as { errors: string[] }).errors.join('\n');
  assert.match(e2, /rules\[0\]\.mask\.entities\[1\]: unknown entity "PASSPORT"/);
  assert.match(e2, /rules\[1\]\.id: duplicate rule id "a"/);
  assert.throws(() => compilePolicy({ version: -1 }), /invalid policy: version/);
});

test('defaults: guardrails on, default action block, redact style, US region', () => {
  const r = parsePolicy({ version: 1 });
  assert.ok(r.ok);
  assert.deepEqual(r.policy.guardrails, {
    enabled: true,
    relax: [],
    vectorTables: ['documents'],
    vectorIdColumns: ['id'],
  });
  assert.equal(r.policy.defaultAction, 'block');
  assert.equal(r.policy.masking.style, 'redact');
  assert.equal(r.policy.detectors.region, 'US');
});
