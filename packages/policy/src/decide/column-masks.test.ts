import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init } from '../sql/analyze.js';
import { figureName } from '../sql/outputs.js';
import { compilePolicy, columnMaskStyle, decide, type Decision } from './decide.js';

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
      mask: { columns: [{ table: 'customers', column: 'ssn', style: 'hash' }] },
    },
  ],
});
const judge = (sql: string): Decision =>
  decide({ connection: 'demo-pg', identity: { subject: 'carol', groups: [] }, sql: analyzeSql(sql) }, policy, now);
/** The style a result column of this name gets, asked as the agent's result guard asks. */
const styleOf = (sql: string, name: string) => {
  const masks = judge(sql).masks;
  const tables = analyzeSql(sql).statements.flatMap((s) => s.tables);
  return columnMaskStyle(masks, undefined, name) ?? tables.map((t) => columnMaskStyle(masks, t, name)).find(Boolean);
};

test('a masked column keeps its mask under every name a query gives it', () => {
  const cases: [string, string][] = [
    ['SELECT ssn AS x FROM customers', 'x'],
    ['SELECT upper(ssn) FROM customers', 'upper'],
    ['SELECT ssn || \'\' FROM customers', '?column?'],
    ['SELECT ssn::text FROM customers', 'ssn'],
    ['SELECT coalesce(ssn, name) FROM customers', 'coalesce'],
    ['SELECT CASE WHEN true THEN ssn END FROM customers', 'case'],
    ['SELECT x FROM (SELECT ssn AS x FROM customers) t', 'x'],
    ['SELECT * FROM (SELECT lower(ssn) FROM customers) t', 'lower'],
    ['WITH w(y) AS (SELECT ssn FROM customers) SELECT y FROM w', 'y'],
    ['WITH w AS (SELECT ssn AS z FROM customers) SELECT * FROM w', 'z'],
    ['SELECT e FROM customers AS t(a, b, c, d, e)', 'e'],
    ['SELECT c FROM customers c', 'c'],
    ['SELECT to_json(c.*) FROM customers c', 'to_json'],
    ['SELECT row_to_json(c) AS doc FROM customers c', 'doc'],
    ['SELECT name FROM products UNION ALL SELECT ssn FROM customers', 'name'],
    ['SELECT z FROM customers c, unnest(ARRAY[c.ssn]) AS f(z)', 'z'],
    ['SELECT * FROM customers c, unnest(ARRAY[c.ssn])', 'unnest'],
    ['SELECT (SELECT ssn FROM customers LIMIT 1) AS first', 'first'],
    ['UPDATE customers SET name = ssn WHERE id = 1 RETURNING name', 'name'],
    ['WITH d AS (DELETE FROM customers WHERE id = 2 RETURNING ssn AS gone) SELECT gone FROM d', 'gone'],
  ];
  for (const [sql, name] of cases) {
    const d = judge(sql);
    assert.equal(d.action, 'mask', sql);
    assert.equal(styleOf(sql, name), 'hash', `${sql}: result column "${name}" is masked`);
  }
});

test('unrelated names and tables keep their values', () => {
  assert.equal(styleOf('SELECT name, ssn AS x FROM customers', 'name'), undefined);
  assert.equal(styleOf('SELECT name FROM customers WHERE ssn = $1', 'name'), undefined, 'a filter is not an output');
  assert.equal(styleOf('SELECT ssn AS x FROM suppliers', 'x'), undefined, 'the mask names customers.ssn only');
  assert.equal(judge('SELECT ssn FROM suppliers').action, 'allow');
});

test('refuses what the masks cannot follow: a UNION under * names, cursors, new tables and views', () => {
  const refused = [
    'SELECT * FROM products UNION ALL SELECT ssn FROM customers',
    'DECLARE k CURSOR FOR SELECT ssn FROM customers',
    'DECLARE k CURSOR FOR SELECT * FROM customers',
    'CREATE TABLE copy AS SELECT ssn AS x FROM customers',
    'SELECT ssn INTO copy FROM customers',
    'CREATE VIEW v AS SELECT upper(ssn) FROM customers',
    "DO $$ BEGIN RAISE NOTICE '%', (SELECT ssn FROM customers LIMIT 1); END $$",
    'CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM customers LIMIT 1 $$',
    "SELECT pg_notify('out', ssn) FROM customers",
    "SELECT set_config('my.ssn', ssn, false) FROM customers",
  ];
  for (const sql of refused) {
    const d = judge(sql);
    assert.equal(d.action, 'block', sql);
    assert.equal(d.ruleId, 'mask:column-untracked', sql);
    assert.match(d.reason!, /select them directly|list the columns by name|could send them elsewhere/, sql);
  }
  assert.equal(judge('DECLARE k CURSOR FOR SELECT name FROM customers').action, 'mask', 'a cursor without the column');
});

test('figureName gives the names PostgreSQL gives', () => {
  const name = (expr: string) => {
    const a = analyzeSql(`SELECT ${expr} FROM t`);
    const target = a.statements[0]!.derived[0]!;
    return target.name;
  };
  assert.equal(name('a.b'), 'b');
  assert.equal(name('f(a)'), 'f');
  assert.equal(name('s.f(a)'), 'f');
  assert.equal(name('nullif(a, b)'), 'nullif');
  assert.equal(name('a + 1'), '?column?');
  assert.equal(name("'x'::text || a"), '?column?');
  assert.equal(name('greatest(a, b)'), 'greatest');
  assert.equal(name('least(a, b)'), 'least');
  assert.equal(name('ARRAY[a]'), 'array');
  assert.equal(name('ROW(a)'), 'row');
  assert.equal(name('(a).x'), 'x');
  assert.equal(name('a[1]'), 'a');
  assert.equal(name('EXISTS (SELECT a)'), 'exists');
  assert.equal(name('xmlelement(name n, a)'), 'xmlelement');
  assert.equal(figureName(undefined), '?column?');
});
