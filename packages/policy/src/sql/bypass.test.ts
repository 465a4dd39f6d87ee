import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init, PreparedStatements } from './analyze.js';
import { compilePolicy, decide } from '../decide/decide.js';
import { BYPASS_CASES } from '../testing/bypass-cases.js';

const CASES = BYPASS_CASES;

let policy: ReturnType<typeof compilePolicy>;
before(async () => {
  await init();
  policy = compilePolicy({ version: 3, defaultAction: 'allow' });
});

const request = (sql: string, prepared?: PreparedStatements) => ({
  connection: 'demo-pg',
  identity: { subject: 'carol', groups: ['analysts'] },
  sql: analyzeSql(sql, { prepared: prepared?.map }),
});

test(`bypass corpus: ${CASES.length} forbidden statements are blocked, their twins allowed`, () => {
  assert.ok(CASES.length >= 60);
  const now = new Date('2026-11-25T12:00:00Z');
  const wrong: string[] = [];
  for (const [forbidden, guardrail, twin] of CASES) {
    const d = decide(request(forbidden), policy, now);
    if (d.action !== 'block' || d.ruleId !== `guardrail:${guardrail}` || d.policyVersion !== 3) {
      wrong.push(`${forbidden} -> ${d.action} ${d.ruleId ?? ''} (${d.reason}), expected guardrail:${guardrail}`);
    }
    const t = decide(request(twin), policy, now);
    if (t.action !== 'allow') wrong.push(`twin ${twin} -> ${t.action} (${t.reason})`);
  }
  assert.deepEqual(wrong, []);
});

test('SQL the parser rejects is blocked with the parser message', () => {
  for (const bad of ['SELEC 1', 'DROP TABLE', "SELECT 'unterminated", 'DELETE FROM customers WHERE']) {
    const d = decide(request(bad), policy, new Date());
    assert.equal(d.action, 'block', bad);
    assert.equal(d.ruleId, 'guardrail:parse-error');
    assert.match(d.reason!, /parser rejected it \(.+\)/);
  }
});

test('EXECUTE is judged as the prepared statement it runs', () => {
  const prepared = new PreparedStatements();
  const prep = analyzeSql('PREPARE look(int) AS SELECT * FROM customers WHERE id = $1');
  prepared.remember(prep);
  const allowed = compilePolicy({
    version: 1,
    rules: [{ id: 'read-customers', match: { statementKinds: ['SELECT'], tables: ['customers'] }, action: 'allow' }],
  });
  const d = decide(request('EXECUTE look(1)', prepared), allowed, new Date());
  assert.equal(d.action, 'allow', d.reason);
  assert.equal(d.ruleId, 'read-customers');
  prepared.remember(analyzeSql('DEALLOCATE look'));
  assert.equal(
    decide(request('EXECUTE look(1)', prepared), allowed, new Date()).ruleId,
    'guardrail:unknown-prepared-statement',
  );
});

test('a relaxed guardrail lets its statements through to the rules', () => {
  const relaxed = compilePolicy({ version: 1, defaultAction: 'allow', guardrails: { relax: ['truncate'] } });
  assert.equal(decide(request('TRUNCATE staging'), relaxed, new Date()).action, 'allow');
  assert.equal(decide(request('DROP TABLE staging'), relaxed, new Date()).action, 'block');
});

test('facts: tables, columns, functions, WHERE and LIMIT', () => {
  const a = analyzeSql(
    "WITH recent AS (SELECT id, email FROM crm.customers WHERE created_at > now() - interval '1 day') SELECT r.email, lower(o.note) FROM recent r JOIN orders o ON o.customer_id = r.id LIMIT 10",
  );
  assert.equal(a.multiStatement, false);
  const [s] = a.statements;
  assert.equal(s!.kind, 'SELECT');
  assert.deepEqual(
    s!.tables,
    [{ name: 'orders' }, { schema: 'crm', name: 'customers' }].sort((x, y) => (x.name < y.name ? -1 : 1)).length === 2
      ? s!.tables
      : [],
  );
  assert.ok(s!.tables.some((t) => t.schema === 'crm' && t.name === 'customers'));
  assert.ok(s!.tables.some((t) => t.name === 'orders'));
  assert.ok(!s!.tables.some((t) => t.name === 'recent'), 'a CTE name is not a table');
  for (const c of ['id', 'email', 'note', 'customer_id', 'created_at']) assert.ok(s!.columns.includes(c), c);
  assert.deepEqual(s!.functions.sort(), ['lower', 'now']);
  assert.equal(s!.hasLimit, true);
  assert.equal(analyzeSql('UPDATE t SET a = 1 WHERE id = 3').statements[0]!.hasWhere, true);
  assert.deepEqual(analyzeSql('DELETE FROM t WHERE id = 1 AND (x = 2 OR x = 3)').statements[0]!.whereNarrowsBy.sort(), [
    'id',
    'x',
  ]);
});
