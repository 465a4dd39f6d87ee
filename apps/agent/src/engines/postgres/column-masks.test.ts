import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Harness } from './testing/harness.js';
import { frame, i16, rawSession, readUntilReady, z } from './testing/raw-client.js';

const SYNC = frame('S', Buffer.alloc(0));
const parse = (name: string, sql: string) => frame('P', Buffer.concat([z(name), z(sql), i16(0)]));
const bind = (statement: string) => frame('B', Buffer.concat([z(''), z(statement), i16(0), i16(0), i16(0)]));
const describeMessage = (kind: 'S' | 'P', name: string) => frame('D', Buffer.concat([Buffer.from(kind), z(name)]));
const execute = frame('E', Buffer.concat([z(''), Buffer.alloc(4)]));

/** Whole-column masks: `name` keeps its last characters, though no detector would find anything in it. */
const POLICY = {
  defaultAction: 'allow' as const,
  rules: [
    {
      id: 'hide-names',
      match: { tables: ['customers'] },
      action: 'mask' as const,
      mask: { columns: [{ table: 'customers', column: 'name', style: 'partial' as const }] },
    },
  ],
};

/** Any four characters of a name, forwards or backwards. */
const NAME_PIECE = /usto|otsu|stom|mots/;

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
    // A child table holds the parent's masked column under its own oid and name.
    await direct.query(`CREATE TABLE vip_customers () INHERITS (customers)`);
    await direct.query(`INSERT INTO vip_customers VALUES (99, 'Customer 99', 'Paris', '{}')`);
    await direct.query(`INSERT INTO products VALUES (1, 'kettle')`);
    h.usePolicy(POLICY);
  });
  after(async () => {
    await direct.end();
    await h.close();
  });

  it('never returns a masked value, or a piece of one, under any name or computed', async () => {
    const client = await h.client();
    const queries = [
      'SELECT name FROM customers',
      'SELECT name AS n FROM customers',
      'SELECT upper(name), city FROM customers',
      'SELECT reverse(name), left(name, 4), right(name, 6) FROM customers',
      "SELECT name || '' FROM customers",
      'SELECT (name)::varchar FROM customers',
      'SELECT CASE WHEN true THEN name ELSE city END FROM customers',
      'SELECT x FROM (SELECT name AS x FROM customers) t',
      'SELECT * FROM (SELECT lower(name) FROM customers) t',
      'WITH w(y) AS (SELECT name FROM customers) SELECT y FROM w',
      'SELECT b FROM customers AS t(a, b)',
      'SELECT c FROM customers c',
      'SELECT c::text FROM customers c',
      'SELECT (c.*)::text FROM customers c',
      'SELECT c.to_json FROM customers c',
      'SELECT to_json(c.*) FROM customers c',
      'SELECT name(c) FROM customers c',
      'SELECT label FROM products UNION ALL SELECT name FROM customers',
      'SELECT z FROM customers c, unnest(ARRAY[c.name]) AS f(z)',
      'SELECT v.column1 FROM customers c, LATERAL (VALUES (c.name)) v',
      'SELECT key, value FROM customers c, jsonb_each_text(to_jsonb(c))',
      'SELECT * FROM customers c, jsonb_array_elements_text(jsonb_build_array(c.name))',
      "SELECT (SELECT string_agg(name, ',') FROM customers) AS everyone",
      'SELECT upper(city) FROM (SELECT name AS city FROM customers) s',
      'SELECT upper(city) FROM customers AS t(id, x, city)',
      'SELECT (c).*, 1, 2 FROM (SELECT c FROM customers c) s',
      'SELECT name, upper(name) FROM vip_customers',
      'SELECT * FROM ONLY vip_customers',
    ];
    for (const sql of queries) {
      const { rows } = await client.query(sql);
      assert.ok(rows.length > 0, `${sql}: rows come back`);
      assert.doesNotMatch(JSON.stringify(rows), NAME_PIECE, `${sql}: no piece of a name leaves unmasked`);
    }
    await client.end();
  });

  it('masks only what holds the column: other columns and what is computed from them keep their values', async () => {
    const client = await h.client();
    const { rows } = await client.query(
      'SELECT c.id, city, name AS n, upper(city) AS up, count(*) OVER () AS total, p.label FROM customers c JOIN products p ON p.id = c.id ORDER BY c.id',
    );
    assert.deepEqual(rows, [{ id: 1, city: 'Lyon', n: '*****mer 1', up: 'LYON', total: '1', label: 'kettle' }]);
    await client.end();
  });

  it('withholds errors of a statement that reads a masked column, and refuses what would keep or send it elsewhere', async () => {
    const client = await h.client();
    await assert.rejects(client.query('SELECT name::int FROM customers'), (e: { code: string; message: string }) => {
      assert.equal(e.code, '22P02', 'the SQLSTATE is kept');
      assert.equal(e.message, 'error 22P02 withheld: the statement reads masked columns');
      return true;
    });
    await assert.rejects(client.query(`DO $$ BEGIN RAISE NOTICE '%', (SELECT name FROM customers LIMIT 1); END $$`), /a DO block that reads masked columns/);
    await assert.rejects(client.query(`SELECT pg_notify('out', name) FROM customers`), /pg_notify\(\) in a statement that reads masked columns/);
    await assert.rejects(client.query('INSERT INTO products SELECT id, name FROM customers'), /writing values read from a masked column/);
    await client.query('BEGIN');
    await assert.rejects(client.query('DECLARE k CURSOR FOR SELECT name FROM customers'), /through a cursor; select them directly/);
    await client.query('ROLLBACK');
    await assert.rejects(client.query('CREATE TABLE copied AS SELECT name AS n FROM customers'), /through a new table/);
    await assert.rejects(client.query('CREATE TABLE copied AS SELECT x FROM customers AS t(a, x)'), /through a new table/);
    await assert.rejects(client.query(`SELECT histogram_bounds FROM pg_stats WHERE tablename = 'customers'`), /pg_stats holds sample values/);
    await client.end();
    const { rows } = await direct.query(`SELECT to_regclass('copied') IS NULL AS absent, (SELECT count(*)::int FROM products) AS products`);
    assert.deepEqual(rows[0], { absent: true, products: 1 }, 'the refused statements never ran');
  });

  it('in the extended protocol, masks rows by what the server runs and describes, as drivers pipeline them', async () => {
    const socket = await rawSession(h.port, await h.token('carol'));
    const masked = 'SELECT name FROM customers WHERE id = 1';
    // Described once, then only bound and executed (asyncpg, pgjdbc): the description is kept.
    socket.write(Buffer.concat([parse('named', masked), describeMessage('S', 'named'), SYNC]));
    assert.equal((await readUntilReady(socket, 1)).types, '1tTZ');
    socket.write(Buffer.concat([bind('named'), execute, SYNC]));
    let answer = await readUntilReady(socket, 1);
    assert.equal(answer.types, '2DCZ');
    assert.deepEqual(answer.rows, ['*****mer 1'], 'masked by the kept description, not withheld');
    // The description of another statement does not describe these rows.
    socket.write(Buffer.concat([parse('plain', 'SELECT city FROM customers WHERE id = 1'), describeMessage('S', 'plain'), bind('named'), execute, SYNC]));
    answer = await readUntilReady(socket, 1);
    assert.equal(answer.types, '1tT2DCZ');
    assert.deepEqual(answer.rows, ['*****mer 1']);
    // A Parse the server refuses in an earlier batch does not decide what a later Bind runs.
    socket.write(Buffer.concat([parse('named', "SELECT 'nobody' AS name"), SYNC, bind('named'), describeMessage('P', ''), execute, SYNC]));
    answer = await readUntilReady(socket, 2);
    assert.equal(answer.types, 'EZ2TDCZ');
    assert.deepEqual(answer.rows, ['*****mer 1']);
    // SQL DEALLOCATE and PREPARE reuse a protocol name: a Bind to it is refused, never run unjudged.
    socket.write(Buffer.concat([frame('Q', z('DEALLOCATE named')), frame('Q', z(`PREPARE named AS ${masked}`))]));
    await readUntilReady(socket, 2);
    socket.write(Buffer.concat([bind('named'), execute, SYNC]));
    answer = await readUntilReady(socket, 1);
    assert.match(answer.errors[0]!, /was not prepared with Parse through the agent/);
    // A Close the server skips after an error leaves the statement known.
    socket.write(Buffer.concat([parse('kept', masked), SYNC, bind('no_such'), frame('C', Buffer.concat([Buffer.from('S'), z('kept')])), SYNC]));
    assert.equal((await readUntilReady(socket, 2)).types, '1ZEZ');
    socket.write(Buffer.concat([bind('kept'), describeMessage('P', ''), execute, SYNC]));
    answer = await readUntilReady(socket, 1);
    assert.deepEqual(answer.rows, ['*****mer 1']);
    socket.destroy();
  });

  it('keeps step with the server where drivers and clients stray: SQL-prepared names, refused portals, COPY, a Query inside a batch', async () => {
    const masked = 'SELECT upper(name) AS u, name FROM customers WHERE id = 1';
    const socket = await rawSession(h.port, await h.token('carol'));
    // A name the server holds from SQL PREPARE, bound while a refused Parse of it was in flight:
    // the Bind is refused, the statement was never judged as it would run.
    socket.write(frame('Q', z(`PREPARE n AS ${masked}`)));
    await readUntilReady(socket, 1);
    socket.write(Buffer.concat([parse('n', "SELECT 'a' AS u, 'b' AS name"), SYNC, bind('n'), describeMessage('P', ''), execute, SYNC]));
    let answer = await readUntilReady(socket, 2);
    assert.equal(answer.types, 'EZEZ');
    assert.match(answer.errors[0]!, /C42P05/);
    assert.match(answer.errors[1]!, /was not prepared with Parse through the agent/);
    // DEALLOCATE and PREPARE sent through Parse forget the name too.
    socket.write(Buffer.concat([parse('m', "SELECT 'a' AS u, 'b' AS name"), SYNC]));
    await readUntilReady(socket, 1);
    for (const sql of ['DEALLOCATE m', `PREPARE m AS ${masked}`]) {
      socket.write(Buffer.concat([parse('', sql), bind(''), execute, SYNC]));
      await readUntilReady(socket, 1);
    }
    socket.write(Buffer.concat([bind('m'), execute, SYNC]));
    assert.match((await readUntilReady(socket, 1)).errors[0]!, /was not prepared with Parse through the agent/);
    // COPY FROM STDIN through Parse/Bind/Execute, as libpq sends it: the Sync sent before the
    // data is not answered, and what follows is still judged by its own statement.
    socket.write(Buffer.concat([frame('Q', z('CREATE TEMP TABLE scratch (n int)'))]));
    await readUntilReady(socket, 1);
    socket.write(Buffer.concat([parse('', 'COPY scratch FROM STDIN'), bind(''), execute, SYNC]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(Buffer.concat([frame('d', Buffer.from('42\n')), frame('c', Buffer.alloc(0)), SYNC]));
    await readUntilReady(socket, 1);
    socket.write(frame('Q', z(masked)));
    answer = await readUntilReady(socket, 1);
    assert.equal(answer.rows.length, 1);
    assert.match(answer.rows[0]!, /^\[u\]/);
    assert.doesNotMatch(answer.rows[0]!, NAME_PIECE);
    // COPY FROM STDIN by a simple Query with a Sync sent right behind it: the server ignores that
    // Sync, so what comes next is still answered as the statements the client sent.
    const copied = readUntilReady(socket, 1);
    socket.write(Buffer.concat([frame('Q', z('COPY scratch FROM STDIN')), SYNC]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(Buffer.concat([frame('d', Buffer.from('7\n')), frame('c', Buffer.alloc(0))]));
    assert.equal((await copied).types, 'GCZ');
    socket.write(Buffer.concat([frame('Q', z("SELECT 'plain' AS name")), frame('Q', z(masked))]));
    answer = await readUntilReady(socket, 2);
    assert.equal(answer.types, 'TDCZTDCZ');
    assert.equal(answer.rows[0], 'plain');
    assert.match(answer.rows[1]!, /^\[u\]/);
    assert.doesNotMatch(answer.rows[1]!, NAME_PIECE);
    // A COPY the server fails on a bad row before the client ends it: the server leaves copy mode
    // and answers the client's next Sync, which the agent must count again; batches after it,
    // one failing, are still judged by their own statements.
    const failed = readUntilReady(socket, 1);
    socket.write(Buffer.concat([parse('', 'COPY scratch FROM STDIN'), bind(''), execute, SYNC]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(frame('d', Buffer.from('not a number\n')));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(SYNC);
    answer = await failed;
    assert.equal(answer.types, '12GEZ');
    assert.match(answer.errors[0]!, /C22P02/);
    socket.write(Buffer.concat([parse('', 'SELECT nonsense'), SYNC, parse('', masked), bind(''), describeMessage('P', ''), execute, SYNC, frame('c', Buffer.alloc(0)), SYNC]));
    answer = await readUntilReady(socket, 3);
    assert.equal(answer.types, 'EZ12TDCZZ');
    assert.match(answer.rows[0]!, /^\[u\]/);
    assert.doesNotMatch(answer.rows[0]!, NAME_PIECE);
    // A simple Query before the Sync of a batch (pg-cursor sends one): the agent closes the batch first.
    socket.write(Buffer.concat([parse('', 'SELECT 1'), frame('Q', z(masked))]));
    answer = await readUntilReady(socket, 1);
    assert.equal(answer.types, '1TDCZ');
    assert.match(answer.rows[0]!, /^\[u\]/);
    assert.doesNotMatch(answer.rows[0]!, NAME_PIECE);
    // A name SQL DEALLOCATE freed is the server's to refuse (drivers re-prepare on its 26000).
    socket.write(Buffer.concat([frame('Q', z('DISCARD ALL'))]));
    await readUntilReady(socket, 1);
    socket.write(Buffer.concat([bind('m'), execute, SYNC]));
    assert.match((await readUntilReady(socket, 1)).errors[0]!, /C26000/);
    socket.destroy();

    // A Sync between rows of a COPY the server then fails: the server ignored it or answered it,
    // depending on which row failed, which the agent cannot tell: the session ends.
    // Sent after the COPY began, or pipelined with it before the server said so.
    for (const pipelined of [false, true]) {
      const stray = await rawSession(h.port, await h.token('carol'));
      stray.write(frame('Q', z('CREATE TEMP TABLE scratch (n int)')));
      await readUntilReady(stray, 1);
      const received: Buffer[] = [];
      stray.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise((resolve, reject) => {
        stray.once('close', resolve);
        setTimeout(() => reject(new Error('the session went on')), 5000).unref();
      });
      const copy = Buffer.concat([parse('', 'COPY scratch FROM STDIN'), bind(''), execute]);
      const rows = Buffer.concat([frame('d', Buffer.from('1\n')), SYNC, frame('d', Buffer.from('x\n'))]);
      if (pipelined) {
        stray.write(Buffer.concat([copy, rows]));
      } else {
        stray.write(Buffer.concat([copy, SYNC]));
        await new Promise((resolve) => setTimeout(resolve, 100));
        stray.write(rows);
      }
      await closed;
      assert.match(Buffer.concat(received).toString('latin1'), /C08P01\0M[^\0]*Sync was sent in the middle of COPY data/, `pipelined: ${pipelined}`);
    }
  });

  it('reads where the masked columns are with nothing of the client in the way (its search path, its encoding)', async () => {
    // An operator of the client's own, found first on its search path, would make the catalog query match nothing.
    await direct.query(`CREATE SCHEMA IF NOT EXISTS sly`);
    await direct.query(`CREATE OR REPLACE FUNCTION sly.never(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT false'`);
    await direct.query(`DROP OPERATOR IF EXISTS sly.= (text, text)`);
    await direct.query(`CREATE OPERATOR sly.= (LEFTARG = text, RIGHTARG = text, FUNCTION = sly.never)`);
    const client = await h.client('carol', { options: '-c search_path=sly,pg_catalog,public -c client_encoding=LATIN1' } as pg.ClientConfig);
    const { rows } = await client.query('SELECT name FROM customers ORDER BY id LIMIT 1');
    assert.deepEqual(rows, [{ name: '*****mer 1' }]);
    await client.end();
  });

  it('a mask written in other letters than the catalog holds the name still masks it, as SQL folds unquoted names', async () => {
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'upper', match: { tables: ['Customers'] }, action: 'mask', mask: { columns: [{ table: 'Customers', column: 'NAME', style: 'redact' }] } }] }, 6);
    try {
      const client = await h.client();
      const { rows } = await client.query('SELECT name, upper(name) AS up, city FROM customers ORDER BY id LIMIT 1');
      assert.deepEqual(rows, [{ name: '[name]', up: '[up]', city: 'Lyon' }]);
      await client.end();
    } finally {
      h.usePolicy(POLICY, 7);
    }
  });

  it('masks a masked name read from a table created after the session logged in', async () => {
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'any-name', match: {}, action: 'mask', mask: { columns: [{ column: 'name', style: 'redact' }] } }] }, 8);
    try {
      const client = await h.client();
      // A migration while a pool's session lives: the catalog was read before this table existed.
      await direct.query(`CREATE TABLE late_customers (id int, name text)`);
      await direct.query(`INSERT INTO late_customers VALUES (7, 'Customer 7')`);
      const { rows } = await client.query('SELECT name AS x, id, name FROM late_customers');
      assert.deepEqual(rows, [{ x: '[x]', id: 7, name: '[name]' }]);
      assert.deepEqual((await client.query('SELECT id FROM late_customers')).rows, [{ id: 7 }], 'what reads no masked name keeps its value');
      await client.end();
    } finally {
      await direct.query(`DROP TABLE IF EXISTS late_customers`);
      h.usePolicy(POLICY, 9);
    }
  });

  it('keeps the values of a new table that read no masked name, where no table held one at login', async () => {
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'nick', match: {}, action: 'mask', mask: { columns: [{ column: 'nickname', style: 'redact' }] } }] }, 10);
    try {
      const client = await h.client();
      await direct.query(`CREATE TABLE late_people (id int, nickname text)`);
      await direct.query(`INSERT INTO late_people VALUES (7, 'Nick')`);
      assert.deepEqual((await client.query('SELECT id, nickname AS n FROM late_people')).rows, [{ id: 7, n: '[n]' }]);
      await client.end();
    } finally {
      await direct.query(`DROP TABLE IF EXISTS late_people`);
      h.usePolicy(POLICY, 11);
    }
  });

  it('a mask of a column name in any table leaves statements on other tables alone', async () => {
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'any-name', match: {}, action: 'mask', mask: { columns: [{ column: 'name', style: 'redact' }] } }] }, 4);
    try {
      const client = await h.client();
      assert.deepEqual((await client.query('SELECT upper(label) AS up FROM products')).rows, [{ up: 'KETTLE' }]);
      await assert.rejects(client.query('SELECT 1 / 0 FROM products'), /^error: division by zero$/);
      assert.deepEqual((await client.query('SELECT upper(name) AS up FROM customers ORDER BY id LIMIT 1')).rows, [{ up: '[up]' }]);
      await client.end();
    } finally {
      h.usePolicy(POLICY, 5);
    }
  });

  it('ends a session whose policy starts masking other columns: where they are was read at login', async () => {
    const client = await h.client();
    client.on('error', () => undefined);
    // Prepared while no mask named city: judged without it.
    await client.query({ name: 'towns', text: 'SELECT city FROM customers ORDER BY id LIMIT 1' });
    h.usePolicy({ ...POLICY, rules: [{ ...POLICY.rules[0]!, mask: { columns: [{ table: 'customers', column: 'city', style: 'redact' as const }] } }] }, 2);
    try {
      await assert.rejects(client.query({ name: 'towns', text: 'SELECT city FROM customers ORDER BY id LIMIT 1' }), /reconnect to read through the new masks/);
      const fresh = await h.client();
      const { rows } = await fresh.query('SELECT city AS town FROM customers LIMIT 1');
      assert.deepEqual(rows, [{ town: '[town]' }]);
      await fresh.end();
    } finally {
      h.usePolicy(POLICY, 3);
    }
  });
});
