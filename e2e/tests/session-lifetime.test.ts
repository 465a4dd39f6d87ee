// Issue 4: a session lives no longer than the token it was opened with, and an application that
// hands node-postgres a password function keeps working across token expiries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { demoPassword, seedDemoDatabase } from '../../deploy/local/demo-data.mjs';
import { eventually, sleep } from '../lib/process.js';
import {
  adminDatabaseUrl,
  api,
  createDatabase,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  userToken,
  type Agent,
  type ControlPlane,
  type Idp,
} from '../lib/stack.js';

const TOKEN_TTL_SECONDS = 60;

describe('session lifetime bound to the token', () => {
  let idp: Idp;
  let shortIdp: Idp;
  let store: Awaited<ReturnType<typeof createDatabase>>;
  let demoDb: string;
  let cp: ControlPlane;
  let agent: Agent;

  before(async () => {
    idp = await startIdp();
    shortIdp = await startIdp({ twinOf: idp, tokenTtlSeconds: TOKEN_TTL_SECONDS });
    store = await createDatabase('e2e_lifetime_store');
    demoDb = `e2e_lifetime_demo_${process.pid}`;
    await seedDemoDatabase({ adminUrl: adminDatabaseUrl, database: demoDb, customers: 100 });
    cp = await startControlPlane({ idp, databaseUrl: store.url });
    const alice = await userToken(idp, 'alice');
    const created = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'demo-pg',
      kind: 'postgres',
      target: `postgresql://portcullis_demo_reader@127.0.0.1:5432/${demoDb}`,
      credential: { secretRef: 'env:DEMO_PG_PASSWORD' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'demo-pg', group: 'analysts' })).status, 201);
    const reg = await registerAgent(cp, alice, 'lifetime-agent');
    agent = await startAgent({ controlPlane: cp, token: reg.token, env: { DEMO_PG_PASSWORD: demoPassword } });
    await eventually(async () => (await agent.status()).connections.includes('demo-pg'), { what: 'demo-pg on the agent' });
  });

  after(async () => {
    await agent?.stop();
    await cp?.stop();
    await shortIdp?.stop();
    await idp?.stop();
    await store?.drop();
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${demoDb} WITH (FORCE)`);
    await admin.end();
  });

  test('a session opened with a 60 s token is closed at its expiry, with the expiry message', async () => {
    const token = await userToken(shortIdp, 'carol');
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const client = new pg.Client({ host: '127.0.0.1', port: agent.pgPort, database: 'demo-pg', user: 'carol', password: token });
    const closed = new Promise<{ at: number; message: string }>((resolve) => {
      let message = '';
      client.on('error', (e) => (message ||= e.message));
      client.on('end', () => resolve({ at: Date.now(), message }));
    });
    await client.connect();
    assert.equal((await client.query('select 1 as one')).rows[0].one, 1);
    const { at, message } = await closed;
    assert.match(message, /expired/);
    assert.ok(Math.abs(at - expiresAt) < 3000, `closed ${at - expiresAt} ms from the token's expiry`);
  });

  test('a pg.Pool with a password function runs queries for 3 minutes across expiries', async () => {
    let tokensIssued = 0;
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: agent.pgPort,
      database: 'demo-pg',
      user: 'carol',
      // A fresh token for every new connection, and connections retired before their token ends.
      password: async () => {
        tokensIssued++;
        return userToken(shortIdp, 'carol');
      },
      max: 4,
      maxLifetimeSeconds: TOKEN_TTL_SECONDS - 10,
    });
    const poolErrors: Error[] = [];
    pool.on('error', (e) => poolErrors.push(e));
    const until = Date.now() + 180_000;
    let queries = 0;
    try {
      while (Date.now() < until) {
        const r = await pool.query('select count(*)::int as n from customers');
        assert.equal(r.rows[0].n, 100);
        queries++;
        await sleep(200);
      }
    } finally {
      await pool.end();
    }
    console.log(`pool: ${queries} queries over 3 min, ${tokensIssued} tokens, ${poolErrors.length} idle-client errors absorbed by the pool`);
    assert.ok(tokensIssued >= 3, 'connections were not renewed across expiries');
  });
});
