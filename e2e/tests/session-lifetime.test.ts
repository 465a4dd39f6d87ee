// Issue 4: a session lives no longer than the token it was opened with, and an application that
// hands node-postgres a password function keeps working across token expiries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sleep } from '../lib/process.js';
import { startIdp, userToken, type Agent, type Idp } from '../lib/stack.js';
import { agentClient, startDemoStack, type DemoStack } from '../lib/demo-stack.js';

const TOKEN_TTL_SECONDS = 60;

describe('session lifetime bound to the token', () => {
  let stack: DemoStack;
  let idp: Idp;
  let shortIdp: Idp;
  let agent: Agent;

  before(async () => {
    stack = await startDemoStack({
      name: 'lifetime',
      customers: 100,
      groups: ['analysts'],
      agents: ['lifetime-agent'],
    });
    ({ idp, agent } = stack);
    shortIdp = await startIdp({ twinOf: idp, tokenTtlSeconds: TOKEN_TTL_SECONDS });
  });

  after(async () => {
    await shortIdp?.stop();
    await stack?.stop();
  });

  test('a session opened with a 60 s token is closed at its expiry, with the expiry message', async () => {
    const token = await userToken(shortIdp, 'carol');
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const client = agentClient(agent, token, 'carol');
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
    console.log(
      `pool: ${queries} queries over 3 min, ${tokensIssued} tokens, ${poolErrors.length} idle-client errors absorbed by the pool`,
    );
    assert.ok(tokensIssued >= 3, 'connections were not renewed across expiries');
  });
});
