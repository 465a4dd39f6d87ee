// Issue 3 acceptance: real PostgreSQL clients through a real agent, tokens from the real dev IdP,
// recordings shipped to a real control plane (which is killed mid-run).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt, SignJWT, importPKCS8 } from 'jose';
import pg from 'pg';
import postgres from 'postgres';
import { eventually, sleep } from '../lib/process.js';
import { api, clientToken, startIdp, userToken, type Agent, type ControlPlane, type Idp } from '../lib/stack.js';
import { agentClient, agentPrisma, startDemoStack, type DemoStack } from '../lib/demo-stack.js';

const run = promisify(execFile);
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

describe('PostgreSQL through the agent', () => {
  let stack: DemoStack;
  let idp: Idp;
  let shortIdp: Idp;
  let store: DemoStack['store'];
  let cp: ControlPlane;
  let agent: Agent;
  let alice: string;
  let carol: string;

  before(async () => {
    stack = await startDemoStack({
      name: 'pgpath',
      customers: 2000,
      groups: ['analysts', 'ci'],
      agents: ['pg-agent'],
      prepare: async (demoUrl, db) => {
        await run(PGBENCH, ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-U', 'postgres', db]);
        const admin = new pg.Client({ connectionString: demoUrl });
        await admin.connect();
        await admin.query(
          'GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history TO portcullis_demo_reader',
        );
        await admin.end();
      },
    });
    ({ idp, cp, agent, alice, store } = stack);
    shortIdp = await startIdp({ twinOf: idp, tokenTtlSeconds: 1 });
    carol = await userToken(idp, 'carol');
  });

  after(async () => {
    await shortIdp?.stop();
    await stack?.stop();
  });

  const psqlEnv = (token: string) => ({
    ...process.env,
    PGPASSWORD: token,
    PGSSLMODE: 'prefer',
    PGCONNECT_TIMEOUT: '5',
  });
  const psqlArgs = (user: string, database = 'demo-pg') => [
    '-X',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    `host=127.0.0.1 port=${agent.pgPort} dbname=${database} user=${user}`,
  ];

  test('psql: queries, COPY in, COPY out refused where results are masked, with a token as the password', async () => {
    const count = await run('psql', [...psqlArgs('carol'), '-c', 'select count(*) from customers'], {
      env: psqlEnv(carol),
    });
    assert.equal(count.stdout.trim(), '2000');
    // Carol's results are masked (the default policy), and COPY's rows are not: refused, with why.
    const copyOut = 'copy (select id from customers order by id limit 3) to stdout';
    const masked = await run('psql', [...psqlArgs('carol'), '-c', copyOut], { env: psqlEnv(carol) }).catch(
      (error: { stderr: string }) => error,
    );
    assert.match(masked.stderr, /COPY \.\.\. TO STDOUT cannot be masked; read masked data with SELECT/);
    // Where nothing is masked COPY out runs: apps/agent's engine test copies out with psql.
    const copyIn = spawn(
      'psql',
      [
        ...psqlArgs('carol'),
        '-c',
        'create temp table t(a int)',
        '-c',
        'copy t from stdin',
        '-c',
        'select sum(a) from t',
      ],
      { env: psqlEnv(carol) },
    );
    let stdout = '';
    let stderr = '';
    copyIn.stdout.on('data', (d) => (stdout += d));
    copyIn.stderr.on('data', (d) => (stderr += d));
    copyIn.stdin.end('1\n2\n39\n');
    const code = await new Promise((r) => copyIn.on('exit', r));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^42$/m);
  });

  test('node-postgres: prepared statements, a rollback, LISTEN/NOTIFY, errors with their SQLSTATE', async () => {
    const client = agentClient(agent, carol, 'carol');
    await client.connect();
    const listener = agentClient(agent, carol, 'carol');
    await listener.connect();
    try {
      for (const id of [7, 8]) {
        const r = await client.query({
          name: 'by-id',
          text: 'select id, city from customers where id = $1',
          values: [id],
        });
        assert.equal(r.rows[0].id, id);
      }
      const before = await client.query('select count(*)::int as n from documents');
      await client.query('begin');
      await client.query("insert into documents values (100000, 'temp', 'temp', '{0}')");
      await client.query('rollback');
      const afterRb = await client.query('select count(*)::int as n from documents');
      assert.equal(afterRb.rows[0].n, before.rows[0].n);

      const notified = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));
      await listener.query('listen portcullis_test');
      await client.query("notify portcullis_test, 'hello through the agent'");
      assert.equal(await notified, 'hello through the agent');

      await assert.rejects(client.query('select * from no_such_table'), (e: any) => e.code === '42P01');
      // The session goes on after an error.
      assert.equal((await client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await client.end();
      await listener.end();
    }
  });

  test("postgres.js: a long pg_sleep is cancelled through the client's own cancel", async () => {
    const sql = postgres({
      host: '127.0.0.1',
      port: agent.pgPort,
      database: 'demo-pg',
      username: 'carol',
      password: carol,
      max: 1,
    });
    try {
      const rows = await sql`select full_name from customers where id = ${5}`;
      assert.equal(rows.length, 1);
      const t0 = Date.now();
      const query = sql`select pg_sleep(30)`;
      setTimeout(() => query.cancel(), 300);
      await assert.rejects(query, (e: any) => e.code === '57014');
      assert.ok(Date.now() - t0 < 5000, 'cancel took too long');
    } finally {
      await sql.end();
    }
  });

  test('Prisma Client with @prisma/adapter-pg', async () => {
    const prisma = agentPrisma(agent, carol, 'carol');
    try {
      assert.equal(await prisma.customer.count(), 2000);
      const first = await prisma.customer.findMany({ take: 3, orderBy: { id: 'asc' } });
      assert.deepEqual(
        first.map((c) => c.id),
        [1, 2, 3],
      );
      const doc = await prisma.document.findFirst({ where: { id: 1 } });
      assert.ok(doc && doc.embedding.length === 8);
    } finally {
      await prisma.$disconnect();
    }
  });

  test('refusals carry SQLSTATE and the reason', async () => {
    const connect = async (password: string, database = 'demo-pg') => {
      const c = new pg.Client({ host: '127.0.0.1', port: agent.pgPort, database, user: 'x', password });
      try {
        await c.connect();
        await c.end();
        return undefined;
      } catch (error: any) {
        return { code: error.code as string, message: error.message as string };
      }
    };
    const dave = await userToken(idp, 'dave');
    const noGrant = await connect(dave);
    assert.equal(noGrant?.code, '28000');
    assert.match(noGrant!.message, /no grant on "?demo-pg"?/);

    const unknown = await connect(carol, 'no-such-connection');
    assert.equal(unknown?.code, '3D000');

    const short = await userToken(shortIdp, 'carol');
    assert.equal(decodeJwt(short).iss, idp.issuer);
    await sleep(2500);
    const expired = await connect(short);
    assert.ok(expired && ['28P01', '28000'].includes(expired.code));
    assert.match(expired!.message, /expired/);

    const claims = decodeJwt(carol);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'not-a-realm-key', typ: 'JWT' })
      .sign(await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256'));
    const badSig = await connect(forged);
    assert.ok(badSig && ['28P01', '28000'].includes(badSig.code));
    assert.match(badSig!.message, /signature/);

    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const noneResult = await connect(none);
    assert.ok(noneResult && ['28P01', '28000'].includes(noneResult.code), 'alg none accepted');

    // pgbench (libpq) gets the same treatment.
    await assert.rejects(
      run(PGBENCH, ['-S', '-n', '-t', '1', '-h', '127.0.0.1', '-p', String(agent.pgPort), '-U', 'dave', 'demo-pg'], {
        env: { ...process.env, PGPASSWORD: dave },
      }),
      /no grant/,
    );
  });

  test('statements are recorded with text, parameters, tag and row count', async () => {
    const client = agentClient(agent, carol, 'carol', { application_name: 'recording-check' });
    await client.connect();
    await client.query('select id, city from customers order by id limit 4');
    await client.query({ text: 'select email from customers where id = $1', values: [11] });
    await client.end();

    const session = await eventually(
      async () => {
        const res = await api(cp, alice, 'GET', '/api/v1/sessions?connection=demo-pg&limit=100');
        return res.body.items?.find((s: any) => s.applicationName === 'recording-check' && s.endedAt);
      },
      { timeoutMs: 5000, what: 'recorded session' },
    );
    assert.equal(session.username, 'carol');
    const events = (await api(cp, alice, 'GET', `/api/v1/sessions/${session.id}/events`)).body.items;
    const texts = events.map((e: any) => e.text);
    assert.ok(texts.includes('select id, city from customers order by id limit 4'), JSON.stringify(texts));
    const bound = events.find((e: any) => e.text === 'select email from customers where id = $1');
    assert.ok(bound, 'extended-protocol statement recorded');
    const data = bound.data.statement;
    assert.deepEqual(data.parameters, ['11']);
    assert.equal(data.commandTag, 'SELECT 1');
    assert.equal(Number(data.rowCount), 1);

    const overview = await api(cp, alice, 'GET', '/api/v1/overview?window=1h');
    assert.equal(overview.status, 200, overview.text);
    assert.ok(overview.body.requests >= 2, overview.text);
    assert.ok(overview.body.refusedTokens >= 1, 'the refusals above are counted');
  });

  test('no recording lost: the control plane is SIGKILLed during a pgbench run', async () => {
    const token = await clientToken(idp);
    const bench = run(
      PGBENCH,
      [
        '-S',
        '-n',
        '-c',
        '4',
        '-j',
        '2',
        '-T',
        '20',
        '-R',
        '400',
        '-h',
        '127.0.0.1',
        '-p',
        String(agent.pgPort),
        '-U',
        'ci-bot',
        'demo-pg',
      ],
      { env: { ...process.env, PGPASSWORD: token, PGAPPNAME: 'no-loss-run' }, maxBuffer: 1 << 22 },
    );
    await sleep(5000);
    await cp.kill();
    await sleep(3000);
    await cp.restart();
    const { stdout } = await bench;
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    assert.ok(processed > 1000, stdout);

    const db = new pg.Client({ connectionString: store.url });
    await db.connect();
    try {
      const counts = await eventually(
        async () => {
          const r = await db.query(
            `select count(*)::int as n, count(distinct (e.session_id, e.statement_index))::int as distinct_n
             from events e join sessions s on s.id = e.session_id
            where s.application_name = 'no-loss-run' and e.type = 'statement' and e.text like 'SELECT abalance%'`,
          );
          return r.rows[0].n >= processed ? r.rows[0] : undefined;
        },
        { timeoutMs: 20_000, what: `all ${processed} statements stored` },
      );
      assert.equal(counts.n, processed, 'recorded statements differ from the transactions pgbench processed');
      assert.equal(counts.distinct_n, processed, 'a statement was stored twice');
    } finally {
      await db.end();
    }
  });
});
