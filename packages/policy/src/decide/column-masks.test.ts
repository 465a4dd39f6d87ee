import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init } from '../sql/analyze.js';
import { compilePolicy, decide, type Decision } from './decide.js';

before(() => init());

const now = new Date('2026-11-30T12:00:00Z');
const policy = compilePolicy({
  version: 1,
  defaultAction: 'allow',
  rules: [
    {
      id: 'mask-ssn',
      match: { tables: ['customers'] },
      action: 'mask',
      mask: { columns: [{ table: 'customers', column: 'ssn', style: 'partial' }] },
    },
  ],
});
const judge = (sql: string): Decision =>
  decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql(sql) }, policy, now);

test('computed columns of a statement that reads a masked table get a style that gives nothing away', () => {
  const d = judge('SELECT reverse(ssn) FROM customers');
  assert.equal(d.action, 'mask');
  assert.equal(d.masks!.computed, 'redact', 'never the partial style of the column: pieces of computed values add up');
  assert.equal(judge('SELECT ssn FROM suppliers').masks, undefined, 'the mask names customers.ssn only');
  const nulls = compilePolicy({
    version: 1,
    rules: [{ id: 'm', match: {}, action: 'mask', mask: { columns: [{ column: 'ssn', style: 'null' }, { column: 'email', style: 'hash' }] } }],
  });
  const n = decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql('SELECT 1') }, nulls, now);
  assert.equal(n.masks!.computed, 'null', 'the strictest style of the masks that apply');
  const qualified = compilePolicy({
    version: 1,
    rules: [{ id: 'm', match: {}, action: 'mask', mask: { columns: [{ table: 'public.customers', column: 'ssn', style: 'redact' }] } }],
  });
  const unqualified = decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql('SELECT upper(ssn) FROM customers') }, qualified, now);
  assert.equal(unqualified.masks!.computed, 'redact', 'public.customers may be what the search path finds for customers');
});

test('what each result column reads, when the list lines up with the RowDescription', () => {
  const results = (sql: string) => analyzeSql(sql).statements[0]!.results;
  assert.deepEqual(results('SELECT id, upper(city), count(*), c FROM customers c'), [['id'], ['city'], [], ['c', '*']]);
  assert.deepEqual(results('SELECT c.to_json FROM customers c'), [['to_json']]);
  assert.equal(results('SELECT *, upper(city) FROM customers'), undefined, '* expands to columns only the catalog knows');
  assert.equal(results('SELECT city FROM a UNION SELECT ssn FROM customers'), undefined);
  assert.deepEqual(results('UPDATE customers SET city = $1 WHERE id = 1 RETURNING id, lower(city)'), [['id'], ['city']]);
  assert.equal(results('SELECT (c).*, 1 FROM (SELECT c FROM customers c) s'), undefined, '(x).* expands too');
  for (const renames of [
    'SELECT upper(city) FROM (SELECT ssn AS city FROM customers) s',
    'SELECT upper(name) FROM customers AS t(id, city, name)',
    'SELECT upper(x.city) FROM customers c, LATERAL (SELECT c.ssn AS city) x',
    "WITH d AS (SELECT ssn AS city FROM customers) SELECT city || '' FROM d",
    'SELECT upper(z) FROM customers c, unnest(ARRAY[c.ssn]) z',
  ]) {
    assert.equal(results(renames), undefined, `${renames}: a name read may be another column`);
  }
});

test('refuses what reads a masked column and keeps or sends it where no mask follows', () => {
  const refused = [
    'DECLARE k CURSOR FOR SELECT ssn FROM customers',
    'DECLARE k CURSOR FOR SELECT * FROM customers',
    'CREATE TABLE copy AS SELECT ssn AS x FROM customers',
    'SELECT ssn INTO copy FROM customers',
    'CREATE VIEW v AS SELECT upper(ssn) FROM customers',
    "DO $$ BEGIN RAISE NOTICE '%', (SELECT ssn FROM customers LIMIT 1); END $$",
    'CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM customers LIMIT 1 $$',
    "SELECT pg_notify('out', ssn) FROM customers",
    "SELECT set_config('my.ssn', ssn, false) FROM customers",
    "SELECT lo_from_bytea(4242, convert_to(ssn, 'UTF8')) FROM customers",
    "SELECT pg_advisory_lock(hashtext(ssn)) FROM customers",
    'INSERT INTO customers (id, city) SELECT id + 100, ssn FROM customers RETURNING city',
    'INSERT INTO notes SELECT * FROM customers',
    'UPDATE customers SET city = ssn WHERE id = 1',
    'CREATE TABLE leak AS SELECT x FROM customers AS t(a, b, x)',
    'INSERT INTO products SELECT a, x FROM customers AS t(a, b, x)',
    'ALTER TABLE customers ADD COLUMN s2 text GENERATED ALWAYS AS (ssn) STORED',
    'ALTER TABLE customers ALTER city TYPE text USING ssn',
    "SELECT histogram_bounds FROM pg_stats WHERE attname = 'ssn'",
  ];
  for (const sql of refused) {
    const d = judge(sql);
    assert.equal(d.action, 'block', sql);
    assert.equal(d.ruleId, 'mask:column-untracked', sql);
  }
  for (const sql of [
    'DECLARE k CURSOR FOR SELECT city FROM customers',
    "UPDATE customers SET city = 'Lyon' WHERE id = 1 RETURNING ssn",
    'SELECT ssn AS x, upper(ssn) FROM customers',
  ]) {
    assert.equal(judge(sql).action, 'mask', sql);
  }
});

test('tables named as text are out of reach of rules on tables; schema-qualified allow rules stay exact', () => {
  const d = judge("SELECT table_to_xml('customers', true, false, '')");
  assert.deepEqual([d.action, d.ruleId], ['block', 'guardrail:dynamic-sql']);
  const allowOnly = compilePolicy({ version: 1, defaultAction: 'block', rules: [{ id: 'products', match: { tables: ['public.products'] }, action: 'allow' }] });
  const ask = (sql: string) => decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql(sql) }, allowOnly, now).action;
  assert.equal(ask('SELECT * FROM public.products'), 'allow');
  assert.equal(ask('SELECT * FROM products'), 'block', 'the search path may find another products');
});

test('masks and refusals name tables and columns in any letter case; allow rules name them exactly', () => {
  // SQL folds unquoted names to lower case: a policy writer's "Customers" and "SSN" are customers and ssn.
  const upper = compilePolicy({
    version: 1,
    defaultAction: 'allow',
    rules: [
      { id: 'no-drop', match: { statementKinds: ['DROP'], tables: ['Public.Orders'] }, action: 'block' },
      { id: 'mask-ssn', match: { tables: ['Customers'], columns: ['SSN'] }, action: 'mask', mask: { columns: [{ table: 'Customers', column: 'SSN', style: 'redact' }] } },
    ],
  });
  const run = (sql: string, compiled = upper) =>
    decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql(sql) }, compiled, now);
  assert.equal(run('DROP TABLE public.orders').action, 'block');
  const masked = run('SELECT upper(ssn) FROM customers');
  assert.equal(masked.action, 'mask');
  assert.equal(masked.masks!.computed, 'redact');
  assert.match(run('SELECT ssn INTO copy FROM customers').reason ?? '', /masked/, 'stored elsewhere: refused as for a lower-case mask');
  const allowOnly = compilePolicy({ version: 1, defaultAction: 'block', rules: [{ id: 'ok', match: { tables: ['Customers'] }, action: 'allow' }] });
  assert.equal(run('SELECT 1 FROM customers', allowOnly).action, 'block', 'an allow rule widens nothing by case');
});
