import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeSql } from '@portcullis/policy';
import pg from 'pg';
import { Harness } from './testing/harness.js';

/** Whole-column masks: `name` is hidden, though no detector would find anything in it. */
const POLICY = {
  defaultAction: 'allow' as const,
  rules: [
    {
      id: 'hide-names',
      match: { tables: ['customers'] },
      action: 'mask' as const,
      mask: { columns: [{ table: 'customers', column: 'name', style: 'redact' as const }] },
    },
  ],
};

const NAME = /Customer \d/;

describe('column masks through the agent follow the column under other names', () => {
  let h: Harness;
  let direct: pg.Client;
  before(async () => {
    h = await Harness.start();
    direct = new pg.Client({ connectionString: h.target, password: h.password });
    await direct.connect();
    await direct.query(`CREATE TABLE customers (id int PRIMARY KEY, name text, city text, note jsonb)`);
    await direct.query(`INSERT INTO customers SELECT g, 'Customer ' || g, 'Lyon', '{}' FROM generate_series(1, 5) g`);
    await direct.query(`CREATE TABLE products (id int, label text)`);
    await direct.query(`INSERT INTO products VALUES (1, 'kettle')`);
    h.usePolicy(POLICY);
  });
  after(async () => {
    await direct.end();
    await h.close();
  });

  it('never returns a masked value under an alias, an expression, a subquery, a CTE, a rename or a whole row', async () => {
    const client = await h.client();
    const queries = [
      'SELECT name FROM customers',
      'SELECT name AS n FROM customers',
      'SELECT upper(name), city FROM customers',
      "SELECT name || '' FROM customers",
      'SELECT (name)::varchar FROM customers',
      'SELECT x FROM (SELECT name AS x FROM customers) t',
      'SELECT * FROM (SELECT lower(name) FROM customers) t',
      'WITH w(y) AS (SELECT name FROM customers) SELECT y FROM w',
      'SELECT b FROM customers AS t(a, b)',
      'SELECT c FROM customers c',
      'SELECT c::text FROM customers c',
      'SELECT to_json(c.*) FROM customers c',
      'SELECT label FROM products UNION ALL SELECT name FROM customers',
      'SELECT z FROM customers c, unnest(ARRAY[c.name]) AS f(z)',
      'SELECT (SELECT string_agg(name, \',\') FROM customers) AS everyone',
      'SELECT name(c) FROM customers c',
    ];
    for (const sql of queries) {
      const { rows } = await client.query(sql);
      assert.ok(rows.length > 0, `${sql}: rows come back`);
      assert.doesNotMatch(JSON.stringify(rows), NAME, `${sql}: no name leaves unmasked`);
    }
    const { rows } = await client.query('SELECT id, city, name AS n FROM customers ORDER BY id LIMIT 1');
    assert.deepEqual(rows[0], { id: 1, city: 'Lyon', n: '[n]' }, 'only the masked column changes');
    await client.end();
  });

  it('refuses a cursor or a new table over the masked column, with the reason', async () => {
    const client = await h.client();
    await client.query('BEGIN');
    await assert.rejects(client.query('DECLARE k CURSOR FOR SELECT name FROM customers'), (e: { message: string }) => {
      assert.match(e.message, /through a cursor; select them directly/);
      return true;
    });
    await client.query('ROLLBACK');
    await assert.rejects(client.query('CREATE TABLE copied AS SELECT name AS n FROM customers'), /through a new table/);
    await client.end();
    const { rows } = await direct.query(`SELECT to_regclass('copied') IS NULL AS absent`);
    assert.equal(rows[0].absent, true, 'the refused statement never ran');
  });

  it('withholds what errors quote from a masked column, and refuses code that could hand it out', async () => {
    const client = await h.client();
    await assert.rejects(client.query('SELECT name::int FROM customers'), (e: { code: string; message: string }) => {
      assert.equal(e.code, '22P02');
      assert.equal(e.message, 'invalid input syntax for type integer: "[WITHHELD]"');
      return true;
    });
    await assert.rejects(client.query(`DO $$ BEGIN RAISE NOTICE '%', (SELECT name FROM customers LIMIT 1); END $$`), /a DO block that reads masked columns/);
    await assert.rejects(client.query(`SELECT pg_notify('out', name) FROM customers`), /pg_notify\(\) in a statement that reads masked columns/);
    await client.end();
  });

  it('names result columns as PostgreSQL does, so the masks find them', async () => {
    const expressions = [
      'name',
      'c.name',
      'upper(name)',
      'pg_catalog.lower(name)',
      "name || 'x'",
      'name::text',
      "'x'::text",
      '(name)::varchar(3)',
      'nullif(name, city)',
      'coalesce(name, city)',
      'greatest(name, city)',
      'least(name, city)',
      'CASE WHEN id > 1 THEN name END',
      'ARRAY[name]',
      'ROW(name, city)',
      '(c).name',
      '(ARRAY[name])[1]',
      'EXISTS (SELECT 1)',
      '(SELECT name FROM customers LIMIT 1)',
      'ARRAY(SELECT name FROM customers)',
      'name COLLATE "C"',
      'xmlelement(name e, name)',
      'to_json(c)',
      'count(*)',
      'id + 1',
      'current_date',
      "json_build_object('k', name)",
      'name IS NULL',
    ];
    for (const expr of expressions) {
      const sql = `SELECT ${expr} FROM customers c LIMIT 0`;
      const { fields } = await direct.query(sql);
      const ours = analyzeSql(sql).statements[0]!.derived[0];
      assert.equal(ours?.name, fields[0]!.name, `${expr}: PostgreSQL names it "${fields[0]!.name}"`);
    }
  });
});
