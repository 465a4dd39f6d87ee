import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BUDGET_SQLSTATE } from '@portcullis/policy';
import type pg from 'pg';
import { admin, Harness } from './testing/harness.js';
import { frame, i16, rawSession, readUntilReady, z } from './testing/raw-client.js';

/** Parse/Bind/Execute of one statement without parameters, as a pipelining client sends it. */
const extended = (sql: string) =>
  Buffer.concat([
    frame('P', Buffer.concat([z(''), z(sql), i16(0)])),
    frame('B', Buffer.concat([z(''), z(''), i16(0), i16(0), i16(0)])),
    frame('E', Buffer.concat([z(''), Buffer.alloc(4)])),
  ]);
const SYNC = frame('S', Buffer.alloc(0));

/** The policy of these tests: PII masked, at most 1000 rows per statement. */
const POLICY = {
  defaultAction: 'allow' as const,
  masking: { style: 'redact' as const, entities: ['CREDIT_CARD' as const, 'US_SSN' as const, 'EMAIL' as const, 'PHONE' as const] },
  budgets: { statement: { maxRows: 1000 } },
};

const run = promisify(execFile);

/** psql through the agent; returns stdout and stderr (psql exits non-zero on errors with ON_ERROR_STOP). */
async function psql(h: Harness, sql: string): Promise<{ stdout: string; stderr: string }> {
  const result = await run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', '-d', 'sales', '-c', sql], {
    env: { ...process.env, PGPASSWORD: await h.token('carol') },
  }).catch((error: { stdout: string; stderr: string }) => error);
  return { stdout: result.stdout, stderr: result.stderr };
}

describe('policy enforcement on the PostgreSQL path', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
    await admin(`GRANT pg_read_server_files TO ${h.role}`).catch(() => undefined);
    const setup = await h.client();
    await setup.query(`CREATE TABLE customers (id int8 PRIMARY KEY, name text, email text, card text, ssn varchar(11), note jsonb, born date)`);
    await setup.query(`INSERT INTO customers
      SELECT g, 'Customer ' || g, 'user' || g || '@example.com', '4111 1111 1111 1111', '123-45-6789',
             jsonb_build_object('contact', 'user' || g || '@example.com'), date '1980-05-17'
      FROM generate_series(1, 3000) g`);
    await setup.end();
    h.usePolicy(POLICY);
  });
  after(() => h.close());

  it('blocks DROP with 42501, the reason and the rule id, and never forwards it (pg, outside and inside a transaction)', async () => {
    const client = await h.client();
    await assert.rejects(client.query('DROP TABLE customers'), (error: { code: string; message: string }) => {
      assert.equal(error.code, '42501');
      assert.match(error.message, /^blocked by guardrail drop: DROP/);
      assert.match(error.message, /\[rule guardrail:drop\]/);
      return true;
    });
    // Extended protocol (parameters make pg use Parse/Bind/Execute).
    await assert.rejects(client.query('DELETE FROM customers WHERE $1::int = 1 OR true', [1]), { code: '42501' });
    await client.query('BEGIN');
    await client.query('SELECT 1');
    await assert.rejects(client.query('TRUNCATE customers'), { code: '42501' });
    // As after any error in a transaction block, the transaction is aborted.
    await assert.rejects(client.query('SELECT 1'), { code: '25P02' });
    await client.query('ROLLBACK');
    const { rows } = await client.query('SELECT count(*)::int AS n FROM customers');
    assert.equal(rows[0].n, 3000);
    await client.end();
  });

  it('in a pipeline, a blocked statement errors like PostgreSQL: the rest of its batch is skipped up to Sync', async () => {
    const socket = await rawSession(h.port, await h.token('carol'));
    socket.write(Buffer.concat([extended('SELECT 1'), extended('DROP TABLE customers'), extended('SELECT 3'), SYNC, extended('SELECT 2'), SYNC]));
    const { types, errors, statuses } = await readUntilReady(socket, 2);
    // SELECT 1 answered, the DROP refused (SELECT 3 skipped), one ReadyForQuery per Sync, then SELECT 2.
    assert.equal(types, '12DCEZ12DCZ');
    assert.equal(statuses, 'II');
    assert.match(errors[0]!, /C42501/);
    assert.match(errors[0]!, /blocked by guardrail drop/);
    // Inside a transaction block the transaction is aborted, as after any error.
    socket.write(Buffer.concat([frame('Q', z('BEGIN')), extended('TRUNCATE customers'), SYNC, frame('Q', z('ROLLBACK'))]));
    const inTx = await readUntilReady(socket, 3);
    assert.equal(inTx.statuses, 'TEI');
    socket.destroy();
    assert.equal((await admin(`SELECT 1 FROM pg_database WHERE datname = '${h.database}'`)).rows.length, 1);
  });

  it('refuses a Bind to a statement prepared by SQL PREPARE, which the policy never saw as the Bind runs it', async () => {
    const socket = await rawSession(h.port, await h.token('carol'));
    socket.write(frame('Q', z('PREPARE p AS SELECT email FROM customers LIMIT 1')));
    assert.equal((await readUntilReady(socket, 1)).errors.length, 0);
    const bind = frame('B', Buffer.concat([z(''), z('p'), i16(0), i16(0), i16(0)]));
    socket.write(Buffer.concat([bind, frame('E', Buffer.concat([z(''), Buffer.alloc(4)])), SYNC]));
    const { types, errors } = await readUntilReady(socket, 1);
    assert.equal(types, 'EZ', 'no rows, one error, then ready');
    assert.match(errors[0]!, /prepared statement "p" was not prepared with Parse through the agent/);
    socket.destroy();
  });

  it('psql inside a transaction: the blocked statement aborts the transaction block', async () => {
    const out = await psql(h, 'BEGIN; SELECT 1; DROP TABLE customers; SELECT 2; ROLLBACK; SELECT count(*) FROM customers;');
    // psql -c sends the whole string as one simple Query: it is judged whole and blocked whole.
    assert.match(out.stderr, /blocked by guardrail drop/);
    const script = await run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', '-d', 'sales', '-c', 'BEGIN', '-c', 'DROP TABLE customers', '-c', 'SELECT 2', '-c', 'ROLLBACK', '-c', 'SELECT count(*) FROM customers'], {
      env: { ...process.env, PGPASSWORD: await h.token('carol') },
    }).catch((error: { stdout: string; stderr: string }) => error);
    assert.match(script.stderr, /blocked by guardrail drop/);
    assert.match(script.stderr, /current transaction is aborted/);
    assert.match(script.stdout, /3000/);
  });

  it('blocks through psql, and SQL the parser rejects is blocked with a clear message', async () => {
    const dropped = await psql(h, 'drop   /* hidden */ TABLE "customers"');
    assert.match(dropped.stderr, /ERROR:\s+.*\[rule guardrail:drop\]/);
    const garbage = await psql(h, 'SELEC * FROM customers');
    assert.match(garbage.stderr, /parser rejected/);
    const allowed = await psql(h, 'SELECT count(*) FROM customers');
    assert.equal(allowed.stdout.trim(), '3000');
  });

  it('masks entities in text and binary results, keeping types valid and row counts', async () => {
    const client = await h.client();
    const text = await client.query('SELECT id, email, card, ssn, note, born FROM customers ORDER BY id LIMIT 5');
    assert.equal(text.rows.length, 5);
    assert.equal(text.rows[0].email, '[EMAIL]');
    assert.equal(text.rows[0].card, '[CREDIT_CARD]');
    assert.equal(text.rows[0].ssn, '[US_SSN]');
    assert.deepEqual(text.rows[0].note, { contact: '[EMAIL]' });
    assert.equal(text.rows[0].id, '1');
    const binary = await client.query({
      text: 'SELECT id, email, card, note FROM customers WHERE id = $1',
      values: [2],
      binary: true,
    } as pg.QueryConfig);
    assert.equal(binary.rows.length, 1);
    assert.equal(binary.rows[0].email.toString(), '[EMAIL]');
    assert.equal(binary.rows[0].card.toString(), '[CREDIT_CARD]');
    assert.doesNotMatch(String(binary.rows[0].note), /example\.com/);
    await client.end();
    const statement = await h.recorder.waitFor(() =>
      h.recorder.statements().find((s) => s.text.includes('ORDER BY id LIMIT 5') && s.decision),
    );
    assert.equal(statement.decision!.action, 'mask');
    assert.equal(statement.decision!.policyVersion, 1);
    assert.equal(statement.decision!.maskedCounts.EMAIL, 10);
    const preview = statement.resultJson;
    assert.doesNotMatch(preview, /example\.com|4111 1111|123-45-6789/);
  });

  it('masks values quoted in errors, notices and notifications as in rows', async () => {
    const client = await h.client();
    await assert.rejects(client.query('SELECT ssn::int FROM customers WHERE id = 1'), (e: { code: string; message: string }) => {
      assert.equal(e.code, '22P02', 'the SQLSTATE is kept');
      assert.equal(e.message, 'invalid input syntax for type integer: "[US_SSN]"');
      return true;
    });
    await assert.rejects(
      client.query(`DO $$ BEGIN RAISE EXCEPTION 'card %', '4111 1111 1111 1111' USING DETAIL = 'write to jane@example.com'; END $$`),
      (e: { message: string; detail: string }) => {
        assert.equal(e.message, 'card [CREDIT_CARD]');
        assert.equal(e.detail, 'write to [EMAIL]');
        return true;
      },
    );
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message));
    await client.query(`DO $$ BEGIN RAISE NOTICE 'contact %', 'jane@example.com'; END $$`);
    assert.deepEqual(notices, ['contact [EMAIL]']);
    const payloads: string[] = [];
    client.on('notification', (n) => payloads.push(n.payload ?? ''));
    await client.query('LISTEN portcullis_test');
    await client.query(`SELECT pg_notify('portcullis_test', 'ssn 123-45-6789')`);
    await h.recorder.waitFor(() => payloads.length > 0);
    assert.deepEqual(payloads, ['ssn [US_SSN]']);
    await client.end();
    const recorded = await h.recorder.waitFor(() => h.recorder.statements().find((s) => s.text.startsWith('SELECT ssn::int')));
    assert.equal(recorded.errorMessage, 'invalid input syntax for type integer: "[US_SSN]"', 'the recording holds the masked text');
  });

  it("records the client's own values masked: literals in the SQL and bind parameters", async () => {
    const client = await h.client();
    const { rows } = await client.query(`SELECT id FROM customers WHERE email = $1 OR ssn = '123-45-6789' ORDER BY id LIMIT 1`, ['user7@example.com']);
    assert.equal(rows[0].id, '1', 'the query itself ran with the real values');
    await client.end();
    const recorded = await h.recorder.waitFor(() => h.recorder.statements().find((s) => s.text.includes('OR ssn =')));
    assert.equal(recorded.text, `SELECT id FROM customers WHERE email = $1 OR ssn = '[US_SSN]' ORDER BY id LIMIT 1`);
    assert.deepEqual(recorded.parameters, ['[EMAIL]']);
  });

  it('masks entities held in numeric, integer and array values in binary results as in text results', async () => {
    const client = await h.client();
    const sql = `SELECT 4111111111111111::numeric AS card, 4111111111111111::int8 AS card_int,
        ARRAY['carol@example.com', 'x'] AS emails, ARRAY[4111111111111111::numeric] AS cards,
        12.50::numeric AS price, ARRAY['hello'] AS words, ARRAY[1, 2]::int4[] AS ids WHERE $1::int = 1`;
    const text = await client.query(sql, [1]);
    // With a parameter node-postgres uses the extended protocol, where `binary` asks for binary results.
    // Values as they came: node-postgres' binary numeric parser rounds (12.50 reads as 12.51).
    // With `binary` set per query it reads the bytes as UTF-8 first: compared after the same.
    const raw = { getTypeParser: () => (value: unknown) => value };
    const binary = await client.query({ text: sql, values: [1], binary: true, types: raw } as unknown as pg.QueryConfig);
    assert.ok(binary.fields.every((f) => (f.format as unknown) === 'binary'), 'binary results');
    await client.end();
    for (const rows of [text.rows, binary.rows]) {
      assert.equal(rows.length, 1);
      for (const column of ['card', 'card_int', 'emails', 'cards']) assert.equal(rows[0][column], null, column);
    }
    assert.deepEqual(
      { price: text.rows[0].price, words: text.rows[0].words, ids: text.rows[0].ids },
      { price: '12.50', words: ['hello'], ids: [1, 2] },
    );
    const direct = await admin(
      `SELECT numeric_send(12.50::numeric) AS price, array_send(ARRAY['hello']) AS words, array_send(ARRAY[1, 2]::int4[]) AS ids`,
    );
    for (const column of ['price', 'words', 'ids']) {
      const asClientReads = Buffer.from(direct.rows[0][column].toString('utf8'));
      assert.deepEqual(Buffer.from(binary.rows[0][column]), asClientReads, `${column} passed as PostgreSQL sent it`);
    }
  });

  it('stops a result over the row budget with 53400, while LIMIT 10 passes', async () => {
    const client = await h.client();
    const small = await client.query('SELECT id FROM customers LIMIT 10');
    assert.equal(small.rows.length, 10);
    await assert.rejects(client.query('SELECT * FROM customers'), (error: { code: string; message: string }) => {
      assert.equal(error.code, BUDGET_SQLSTATE);
      assert.match(error.message, /row budget of 1000 rows/);
      return true;
    });
    // The session goes on.
    assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
    await client.end();
    const recorded = await h.recorder.waitFor(() =>
      h.recorder.statements().find((s) => s.text === 'SELECT * FROM customers' && s.errorCode),
    );
    assert.equal(recorded.errorCode, BUDGET_SQLSTATE);
  });

  it("keeps an identity's hourly row budget across policy versions; another identity has its own", async () => {
    const hourly = { defaultAction: 'allow' as const, budgets: { perIdentity: { rowsPerHour: 25 } } };
    h.usePolicy(hourly, 10);
    try {
      const dave = await h.client('dave');
      assert.equal((await dave.query('SELECT id FROM customers LIMIT 20')).rows.length, 20);
      // Saving an unrelated change is a new version: dave still has 5 rows left this hour.
      h.usePolicy({ ...hourly, rules: [{ id: 'unrelated', match: { tables: ['orders'] }, action: 'allow' }] }, 11);
      await assert.rejects(dave.query('SELECT id FROM customers LIMIT 20'), (error: { code: string; message: string }) => {
        assert.equal(error.code, BUDGET_SQLSTATE);
        assert.match(error.message, /hourly row budget of 25 rows \(5 left this hour\) exceeded/);
        return true;
      });
      await assert.rejects(dave.query('SELECT id FROM customers LIMIT 1'), /hourly row budget of 25 rows \(0 left/);
      const erin = await h.client('erin');
      assert.equal((await erin.query('SELECT id FROM customers LIMIT 20')).rows.length, 20);
      await Promise.all([dave.end(), erin.end()]);
    } finally {
      h.usePolicy(POLICY, 12);
    }
  });

  it('records blocked statements with their decision and never runs them upstream', async () => {
    const client = await h.client();
    await assert.rejects(client.query('DROP TABLE customers'));
    await client.end();
    const recorded = await h.recorder.waitFor(() =>
      h.recorder.statements().find((s) => s.text === 'DROP TABLE customers'),
    );
    assert.equal(recorded.decision!.action, 'block');
    assert.deepEqual(recorded.decision!.ruleIds, ['guardrail:drop']);
    assert.equal(recorded.errorCode, '42501');
    const { rows } = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'DROP TABLE customers%'`);
    assert.equal(rows[0].n, 0);
  });

  it('judges a Bind by the statement the server holds: a Parse the server refused does not replace it', async () => {
    // Only statements on customers are masked, so a different text under the same name would
    // run unmasked if the agent took it for what the server holds.
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'mask-customers', match: { tables: ['customers'] }, action: 'mask', mask: { entities: ['EMAIL'] } }] }, 20);
    try {
      const socket = await rawSession(h.port, await h.token('carol'));
      const parse = (name: string, sql: string) => frame('P', Buffer.concat([z(name), z(sql), i16(0)]));
      const bindExecute = (name: string) =>
        Buffer.concat([frame('B', Buffer.concat([z(''), z(name), i16(0), i16(0), i16(0)])), frame('E', Buffer.concat([z(''), Buffer.alloc(4)]))]);
      socket.write(Buffer.concat([parse('s1', 'SELECT email FROM customers WHERE id = 1'), SYNC]));
      assert.equal((await readUntilReady(socket, 1)).types, '1Z');
      // PostgreSQL refuses a second Parse of a name in use (42P05) and skips the rest of the batch.
      socket.write(Buffer.concat([parse('s1', "SELECT 'nobody' AS email"), bindExecute('s1'), SYNC]));
      const refused = await readUntilReady(socket, 1);
      assert.equal(refused.types, 'EZ');
      assert.match(refused.errors[0]!, /C42P05/);
      // A Parse that fails on the server (no such table) leaves no statement behind either.
      socket.write(Buffer.concat([parse('s2', 'SELECT 1 FROM no_such_table'), SYNC, parse('s2', 'SELECT email FROM customers WHERE id = 2'), SYNC]));
      assert.equal((await readUntilReady(socket, 2)).types, 'EZ1Z');
      socket.write(Buffer.concat([bindExecute('s1'), bindExecute('s2'), SYNC]));
      const { types, rows } = await readUntilReady(socket, 1);
      assert.equal(types, '2DC2DCZ');
      // Without a Describe there is no RowDescription, so a value holding an e-mail is sent as NULL.
      assert.deepEqual(rows, [null, null], 'both rows masked as the statements the server ran');
      socket.destroy();
    } finally {
      h.usePolicy(POLICY, 21);
    }
  });

  it('never runs a cursor that SQL DECLARE made under the name of a portal it judged, after SQL CLOSE dropped that one', async () => {
    h.usePolicy({ defaultAction: 'allow', rules: [{ id: 'mask-customers', match: { tables: ['customers'] }, action: 'mask', mask: { entities: ['EMAIL'] } }] }, 22);
    try {
      const socket = await rawSession(h.port, await h.token('carol'));
      socket.write(frame('Q', z('BEGIN')));
      await readUntilReady(socket, 1);
      // Portal "c" runs a statement on no table: allowed as is.
      socket.write(
        Buffer.concat([
          frame('P', Buffer.concat([z('x'), z("SELECT 'nobody' AS email"), i16(0)])),
          frame('B', Buffer.concat([z('c'), z('x'), i16(0), i16(0), i16(0)])),
          SYNC,
        ]),
      );
      assert.equal((await readUntilReady(socket, 1)).types, '12Z');
      socket.write(frame('Q', z('CLOSE c')));
      await readUntilReady(socket, 1);
      socket.write(frame('Q', z('DECLARE c CURSOR FOR SELECT email FROM customers WHERE id = 1')));
      await readUntilReady(socket, 1);
      socket.write(Buffer.concat([frame('D', Buffer.concat([Buffer.from('P'), z('c')])), frame('E', Buffer.concat([z('c'), Buffer.alloc(4)])), SYNC]));
      const { rows } = await readUntilReady(socket, 1);
      assert.ok(rows.every((row) => !row?.includes('@example.com')), `rows: ${JSON.stringify(rows)}`);
      socket.destroy();
    } finally {
      h.usePolicy(POLICY, 23);
    }
  });
});
