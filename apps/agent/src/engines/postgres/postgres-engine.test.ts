import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Harness, refusal } from './testing/harness.js';
import { frame, i16, i32, rawSession } from './testing/raw-client.js';

const PSQL = '/usr/bin/psql';

describe('PostgreSQL engine', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  async function psql(args: string[], options: { input?: string; token?: string; env?: Record<string, string> } = {}) {
    const token = options.token ?? (await h.token('carol'));
    const child = spawn(
      PSQL,
      [
        '-X',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(h.port),
        '-U',
        'carol',
        '-d',
        'sales',
        ...args,
      ],
      {
        env: { ...process.env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '10', ...options.env },
      },
    );
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    return { code, stdout, stderr };
  }

  it('serves psql: DDL, DML, COPY in and out, rollback', async () => {
    const setup = await psql(['-c', 'create table customers(id int primary key, name text)']);
    assert.equal(setup.code, 0, setup.stderr);
    const copyIn = await psql(['-c', '\\copy customers from stdin'], { input: '1\tada\n2\tbob\n3\tcy\n' });
    assert.equal(copyIn.code, 0, copyIn.stderr);
    const tx = await psql(['-c', 'begin; delete from customers where id = 3; rollback;']);
    assert.equal(tx.code, 0, tx.stderr);
    const out = await psql(['-c', 'copy (select * from customers order by id) to stdout']);
    assert.equal(out.stdout, '1\tada\n2\tbob\n3\tcy\n');
    const statements = h.recorder.statements().map((s) => s.commandTag);
    assert.ok(statements.includes('COPY 3'), statements.join());
    assert.ok(statements.includes('ROLLBACK'), statements.join());
  });

  it('shows psql users the reason of a refused token', async () => {
    const expired = await h.token('carol', { issuedAt: Math.floor(Date.now() / 1000) - 600, expiresIn: 60 });
    const result = await psql(['-c', 'select 1'], { token: expired });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /token expired/);
  });

  it('relays simple, extended and prepared queries with pg, and records what ran', async () => {
    const client = await h.client('carol', { application_name: 'report-job' });
    await client.query('create table items(id serial primary key, label text, price numeric)');
    await client.query('insert into items(label, price) values ($1, $2), ($3, $4)', ['pen', '1.50', 'ink', null]);
    const prepared = { name: 'by-label', text: 'select id, label, price from items where label = $1', values: ['pen'] };
    assert.deepEqual((await client.query(prepared)).rows, [{ id: 1, label: 'pen', price: '1.50' }]);
    assert.deepEqual((await client.query({ ...prepared, values: ['ink'] })).rows, [
      { id: 2, label: 'ink', price: null },
    ]);
    await assert.rejects(client.query('select * from missing_table'), { code: '42P01' });
    await assert.rejects(client.query('select $1::int', ['x']), { code: '22P02' });
    assert.equal((await client.query('select 1 as one')).rows[0].one, 1);
    const pid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
    await client.end();

    const { sessionId, start } = await h.recorder.waitFor(() =>
      h.recorder.starts().find((s) => s.start.applicationName === 'report-job'),
    );
    assert.equal(start.subject, 'sub-carol');
    assert.deepEqual(start.groups, ['analysts']);
    assert.equal(start.connection, 'sales');
    assert.equal(start.protocol, 'postgres');
    const end = await h.recorder.waitFor(() => h.recorder.ends().find((e) => e.sessionId === sessionId));
    assert.equal(end.end.outcome, 'ok');
    assert.ok(end.end.bytesFromClient > 0 && end.end.bytesToClient > 0);

    const statements = h.recorder.statements(sessionId);
    assert.deepEqual(
      statements.map((s) => [s.kind, s.commandTag, s.errorCode]),
      [
        ['CREATE', 'CREATE TABLE', ''],
        ['INSERT', 'INSERT 0 2', ''],
        ['SELECT', 'SELECT 1', ''],
        ['SELECT', 'SELECT 1', ''],
        ['SELECT', '', '42P01'],
        ['SELECT', '', '22P02'],
        ['SELECT', 'SELECT 1', ''],
        ['SELECT', 'SELECT 1', ''],
      ],
    );
    assert.deepEqual(statements[1]!.parameters, ['pen', '1.50', 'ink', 'NULL']);
    assert.equal(statements[1]!.rowCount, 2);
    assert.equal(statements[2]!.text, prepared.text);
    assert.deepEqual(statements[2]!.parameters, ['pen']);
    assert.deepEqual(statements[3]!.parameters, ['ink']);
    assert.deepEqual(JSON.parse(statements[3]!.resultJson), {
      columns: ['id', 'label', 'price'],
      rows: [['2', 'ink', null]],
      truncated: false,
    });
    assert.equal(statements[4]!.errorMessage, 'relation "missing_table" does not exist');
    assert.deepEqual(
      statements.map((s) => s.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(statements.every((s) => s.durationMs >= 0));
    assert.notEqual(pid, 0);
  });

  it('counts the bytes of live and ended sessions in its metrics', async () => {
    const bytes = async () => {
      const { values } = (await h.metrics.getSingleMetric('portcullis_postgres_bytes_total')!.get()) as {
        values: Array<{ value: number; labels: { direction?: string } }>;
      };
      const of = (direction: string) => values.find((v) => v.labels.direction === direction)?.value ?? 0;
      return { fromClient: of('from_client'), toClient: of('to_client') };
    };
    const before = await bytes();
    const client = await h.client();
    client.on('error', () => undefined);
    await client.query(`SELECT repeat('x', 100000) AS long`);
    const live = await bytes();
    assert.ok(live.toClient - before.toClient > 100_000, 'a live session counts');
    const session = h.recorder.starts().at(-1)!.sessionId;
    await client.end();
    const { end } = await h.recorder.waitFor(() => h.recorder.ends().find((e) => e.sessionId === session));
    const after = await bytes();
    assert.deepEqual(
      { fromClient: after.fromClient - before.fromClient, toClient: after.toClient - before.toClient },
      { fromClient: end.bytesFromClient, toClient: end.bytesToClient },
      'an ended session counts what its recording says',
    );
  });

  it('keeps the SQLSTATE of upstream errors and notices unchanged, and rolls back', async () => {
    const client = await h.client();
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message));
    await client.query("do $$ begin raise notice 'careful'; end $$");
    assert.deepEqual(notices, ['careful']);
    await client.query('create table ledger(n int)');
    await client.query('begin');
    await client.query('insert into ledger values (1)');
    await assert.rejects(client.query('select 1/0'), { code: '22012' });
    await assert.rejects(client.query('select 1'), { code: '25P02' });
    await client.query('rollback');
    assert.equal((await client.query('select count(*)::int as n from ledger')).rows[0].n, 0);
    await client.end();
  });

  it('relays LISTEN/NOTIFY between sessions', async () => {
    const listener = await h.client();
    const notifier = await h.client();
    await listener.query('listen orders');
    const received = new Promise<pg.Notification>((resolve) => listener.on('notification', resolve));
    await notifier.query("notify orders, 'order 42'");
    const notification = await received;
    assert.equal(notification.channel, 'orders');
    assert.equal(notification.payload, 'order 42');
    await Promise.all([listener.end(), notifier.end()]);
  });

  it('forwards a cancel request (pg_sleep(30) ends within seconds)', async () => {
    const client = await h.client();
    const started = Date.now();
    const query = new pg.Query('select pg_sleep(30)');
    const failed = new Promise<{ code: string }>((resolve) => query.on('error', resolve));
    client.query(query);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const canceller = new pg.Client({ host: '127.0.0.1', port: h.port });
    canceller.cancel(client, query);
    const error = await failed;
    assert.equal(error.code, '57014');
    assert.ok(Date.now() - started < 5000, `cancel took ${Date.now() - started} ms`);
    assert.equal((await client.query('select 2 as two')).rows[0].two, 2, 'the session goes on');
    await client.end();
  });

  it('ignores a cancel request with a wrong key', async () => {
    const client = await h.client();
    const query = client.query('select pg_sleep(0.5) as slept');
    const forged = new pg.Client({ host: '127.0.0.1', port: h.port });
    (client as unknown as { secretKey: number }).secretKey ^= 1;
    forged.cancel(client, (client as unknown as { activeQuery: pg.Query }).activeQuery);
    assert.equal((await query).rowCount, 1);
    await client.end();
  });

  it('refuses bad logins with the right SQLSTATE and reason, and records them', async () => {
    const base = { host: '127.0.0.1', port: h.port, user: 'carol', database: 'sales' };
    const now = Math.floor(Date.now() / 1000);
    const expired = await h.token('carol', { issuedAt: now - 600, expiresIn: 60 });
    assert.deepEqual(await refusal({ ...base, password: expired }), { code: '28P01', message: 'token expired' });

    const { privateKey } = await generateKeyPair('RS256');
    const otherKey = await new SignJWT({ typ: 'Bearer', groups: ['analysts'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1-RS256' })
      .setIssuer(h.idp.issuer)
      .setAudience(h.idp.audience)
      .setSubject('sub-mallory')
      .setExpirationTime('5m')
      .sign(privateKey);
    assert.deepEqual(await refusal({ ...base, password: otherKey }), { code: '28P01', message: 'bad signature' });

    const none = new UnsecuredJWT({ typ: 'Bearer', groups: ['analysts'] })
      .setIssuer(h.idp.issuer)
      .setAudience(h.idp.audience)
      .setSubject('sub-mallory')
      .setExpirationTime('5m')
      .encode();
    assert.deepEqual(await refusal({ ...base, password: none }), { code: '28P01', message: 'bad signature' });

    const wrongIssuer = await h.idp.token('carol', { groups: ['analysts'], claims: { iss: 'https://other.test' } });
    assert.deepEqual(await refusal({ ...base, password: wrongIssuer }), { code: '28P01', message: 'wrong issuer' });
    const wrongAudience = await h.idp.token('carol', { groups: ['analysts'], claims: { aud: 'elsewhere' } });
    assert.deepEqual(await refusal({ ...base, password: wrongAudience }), { code: '28P01', message: 'wrong audience' });
    assert.deepEqual(await refusal({ ...base, password: 'not a token' }), {
      code: '28P01',
      message: 'malformed token',
    });

    const noGroup = await h.idp.token('erin', { groups: ['ci'] });
    assert.deepEqual(await refusal({ ...base, user: 'erin', password: noGroup }), {
      code: '28000',
      message: 'no grant on sales',
    });
    assert.deepEqual(await refusal({ ...base, database: 'nope', password: await h.token() }), {
      code: '3D000',
      message: 'connection "nope" does not exist',
    });
    const down = await refusal({ ...base, database: 'down', password: await h.token() });
    assert.equal(down.code, '08006');
    assert.match(down.message, /^could not connect to "down": upstream 127\.0\.0\.1:1 unreachable/);
    assert.deepEqual(
      await refusal({ ...base, password: await h.token(), replication: 'database' } as pg.ClientConfig),
      {
        code: '0A000',
        message: 'replication connections are not supported',
      },
    );

    const refused = await h.recorder.waitFor(() => {
      const ends = h.recorder.ends().filter((e) => e.end.outcome === 'refused');
      return ends.length >= 10 && ends;
    });
    const reasons = refused.map((e) => e.end.error);
    for (const reason of ['token expired', 'bad signature', 'no grant on sales', 'connection "nope" does not exist']) {
      assert.ok(reasons.includes(reason), reason);
    }
    const noGrantStart = h.recorder
      .starts()
      .find((s) => s.sessionId === refused.find((e) => e.end.error === 'no grant on sales')!.sessionId);
    assert.equal(noGrantStart?.start.subject, 'sub-erin', 'a verified identity is recorded on refusal');
    const metrics = await h.metrics.getSingleMetricAsString('portcullis_postgres_refusals_total');
    assert.match(metrics, /reason="token expired"} [1-9]/);
  });

  it('refuses a disabled identity, and ends its live sessions when the snapshot says so', async () => {
    const client = await h.client('dave');
    client.on('error', () => undefined);
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    h.snapshots.apply(
      h.snapshot({ disabledIdentities: [{ subject: 'sub-dave', username: 'dave', reason: 'left the company' }] }),
    );
    const error = (await ended) as Error & { code: string };
    assert.equal(error.code, '57P01');
    assert.equal(error.message, 'identity dave is disabled: left the company');
    assert.deepEqual(
      await refusal({
        host: '127.0.0.1',
        port: h.port,
        user: 'dave',
        database: 'sales',
        password: await h.token('dave'),
      }),
      {
        code: '28000',
        message: 'identity dave is disabled',
      },
    );
    h.snapshots.apply(h.snapshot());
    const carol = await h.client('carol');
    h.snapshots.apply(h.snapshot({ grants: [] }));
    const lost = await new Promise<Error & { code: string }>((resolve) => carol.on('error', resolve));
    assert.equal(lost.message, 'no grant on sales');
    h.snapshots.apply(h.snapshot());
  });

  it('ends the sessions of a subject on request (endSessionsOf)', async () => {
    const first = await h.client('frank');
    const second = await h.client('frank');
    const other = await h.client('gina');
    const errors = [first, second].map(
      (c) => new Promise<Error & { code: string }>((resolve) => c.on('error', resolve)),
    );
    assert.equal(h.engine.endSessionsOf('sub-frank', 'identity frank is disabled: audit'), 2);
    for (const error of await Promise.all(errors)) {
      assert.equal(error.code, '57P01');
      assert.equal(error.message, 'identity frank is disabled: audit');
    }
    assert.equal((await other.query('select 1 as one')).rows[0].one, 1);
    await other.end();
    const killed = await h.recorder.waitFor(() => {
      const ends = h.recorder.ends().filter((e) => e.end.outcome === 'killed' && e.end.error.includes('frank'));
      return ends.length === 2 && ends;
    });
    assert.equal(killed.length, 2);
  });

  it('ends a session when its token expires', async () => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: h.port,
      database: 'sales',
      user: 'carol',
      password: await h.token('carol', { expiresIn: 2 }),
    });
    await client.connect();
    const error = await new Promise<Error & { code: string }>((resolve) => client.on('error', resolve));
    assert.equal(error.code, '28000');
    assert.equal(error.message, 'access token expired');
  });

  it('refuses statements it cannot record (fail closed), simple and extended, and recovers', async () => {
    const client = await h.client();
    h.recorder.accepts = false;
    try {
      await assert.rejects(client.query('select 1'), {
        code: '57P03',
        message: 'recording unavailable: statement refused (fail-closed)',
      });
      await assert.rejects(client.query('select $1::int as n', [1]), { code: '57P03' });
      await assert.rejects(client.query({ name: 'held', text: 'select 2 as n' }), { code: '57P03' });
    } finally {
      h.recorder.accepts = true;
    }
    assert.equal((await client.query('select $1::int as n', [5])).rows[0].n, 5);
    assert.equal((await client.query('select 3 as n')).rows[0].n, 3);
    await client.end();
  });

  it('keeps a refusal in order behind pipelined statements', async () => {
    const client = await h.client('carol', { pipeline: true } as pg.ClientConfig);
    const first = client.query('select pg_sleep(0.5), 1 as n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    h.recorder.accepts = false;
    const second = client.query('select 2 as n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.recorder.accepts = true;
    const third = client.query('select 3 as n');
    const results = await Promise.allSettled([first, second, third]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.equal(results[1].status === 'rejected' && (results[1].reason as { code: string }).code, '57P03');
    assert.equal(results[2].status === 'fulfilled' && results[2].value.rows[0].n, 3);
    assert.equal((await client.query('select $1::int as n', [4])).rows[0].n, 4);
    await client.end();
  });

  it('takes the trace id from options and does not forward it upstream', async () => {
    const client = await h.client('carol', {
      options: '-c portcullis.trace_id=trace-abc -c statement_timeout=5000',
      application_name: 'traced',
    });
    assert.equal((await client.query('show statement_timeout')).rows[0].statement_timeout, '5s');
    await client.end();
    const start = await h.recorder.waitFor(() => h.recorder.starts().find((s) => s.start.applicationName === 'traced'));
    assert.equal(start.start.traceId, 'trace-abc');
    assert.ok(h.recorder.statements(start.sessionId).every((s) => s.traceId === 'trace-abc'));
  });

  it('keeps the server reading SQL as the agent does: no unsafe client encoding or backslash strings, at login or later', async () => {
    const refused = (config: import('pg').ClientConfig) =>
      h.client('carol', config).then(
        async (c) => {
          await c.end();
          return undefined;
        },
        (error: { code: string; message: string }) => error,
      );
    // psql (libpq) sends the client encoding it is given; node-postgres always asks for UTF8.
    const sjis = await psql(['-c', 'select 1'], { env: { PGCLIENTENCODING: 'SJIS' } });
    assert.notEqual(sjis.code, 0);
    assert.match(sjis.stderr, /client_encoding SJIS is not supported through the agent/);
    const backslashes = await refused({ options: '-c standard_conforming_strings=off' });
    assert.equal(backslashes?.code, '0A000');
    assert.match(backslashes!.message, /standard_conforming_strings must stay on/);
    const latin1 = await psql(['-c', 'show client_encoding'], { env: { PGCLIENTENCODING: 'LATIN1' } });
    assert.equal(latin1.stdout.trim(), 'LATIN1', 'a single-byte encoding is fine');

    // A statement that would change it is refused by the parser-settings guardrail...
    const guarded = await h.client('carol');
    await assert.rejects(guarded.query('SET standard_conforming_strings = off'), (error: { code: string; message: string }) => {
      assert.equal(error.code, '42501');
      assert.match(error.message, /guardrail:parser-settings/);
      return true;
    });
    await guarded.end();
    // ...and should a change get through (the guardrail relaxed here), the server's report of it
    // ends the session before the next statement can run.
    h.usePolicy({ defaultAction: 'allow', guardrails: { relax: ['parser-settings'] } }, 50);
    try {
      const client = await h.client('carol');
      client.on('error', () => undefined);
      await assert.rejects(client.query('SET standard_conforming_strings = off'), (error: { code: string }) => {
        assert.equal(error.code, '0A000');
        return true;
      });
      await assert.rejects(client.query('SELECT 1'));
    } finally {
      h.usePolicy({ defaultAction: 'allow' }, 51);
    }
  });

  it('refuses a role chosen at login, which would skip the role-changes guardrail', async () => {
    for (const config of [{ options: '-c role=pg_read_all_data' }, { options: '--session-authorization=postgres' }]) {
      await assert.rejects(h.client('carol', config), (error: { code: string; message: string }) => {
        assert.equal(error.code, '28000');
        assert.match(error.message, /(role|session_authorization) cannot be set at login through the agent/);
        return true;
      });
    }
  });

  it('caps the recorded result preview', async () => {
    const client = await h.client('carol', { application_name: 'preview' });
    const result = await client.query('select n, repeat($1, 10) as pad from generate_series(1, 500) n', ['x']);
    assert.equal(result.rowCount, 500);
    await client.end();
    const start = await h.recorder.waitFor(() =>
      h.recorder.starts().find((s) => s.start.applicationName === 'preview'),
    );
    const [statement] = h.recorder.statements(start.sessionId);
    const preview = JSON.parse(statement!.resultJson) as { rows: unknown[][]; truncated: boolean };
    assert.equal(statement!.rowCount, 500);
    assert.equal(preview.rows.length, 100);
    assert.deepEqual(preview.rows[0], ['1', 'xxxxxxxxxx']);
    assert.equal(preview.truncated, true);
  });

  it('answers SSLRequest with N when no certificate is configured (psql sslmode=require fails cleanly)', async () => {
    const result = await psql(['-c', 'select 1'], { env: { PGSSLMODE: 'require' } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /server does not support SSL/);
  });

  it('closes a client sending garbage with 08P01, without disturbing others', async () => {
    const good = await h.client();
    const bad = await rawSession(h.port, await h.token());
    const answer = readAll(bad);
    bad.write(Buffer.from([0x21, 0, 0, 0, 4]));
    assert.match((await answer).toString('latin1'), /C08P01\0Minvalid message: unknown message type 0x21/);
    const oversized = await rawSession(h.port, await h.token());
    const oversizedAnswer = readAll(oversized);
    oversized.write(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    assert.match(
      (await oversizedAnswer).toString('latin1'),
      /C08P01\0Minvalid message: message of 2147483647 bytes exceeds the limit/,
    );
    assert.equal((await good.query('select 1 as one')).rows[0].one, 1);
    await good.end();
  });

  it('refuses fast-path function calls, which would bypass recording', async () => {
    const socket = await rawSession(h.port, await h.token());
    const answer = readAll(socket);
    // FunctionCall of pg_backend_pid (OID 2026), no arguments, text result.
    socket.write(frame('F', Buffer.concat([i32(2026), i16(0), i16(0), i16(0)])));
    socket.write(frame('X', Buffer.alloc(0)));
    const text = (await answer).toString('latin1');
    assert.match(text, /C0A000\0Mfunction call messages are not supported through the agent/);
    assert.doesNotMatch(text, /^V/m);
  });
});

/** Everything the server sends until it closes the connection. */
function readAll(socket: import('node:net').Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}
