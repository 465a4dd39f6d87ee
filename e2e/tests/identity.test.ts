// Issue 4 acceptance: the contractor's story. Tokens are short-lived, grants are by group and can
// expire, and disabling an identity ends its live sessions on every agent within seconds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { eventually, repoRoot, sleep } from '../lib/process.js';
import { api, clientToken, userToken, type Agent, type ControlPlane, type Idp } from '../lib/stack.js';
import { agentClient, startDemoStack, type DemoStack } from '../lib/demo-stack.js';

const run = promisify(execFile);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('identity lifecycle', () => {
  let stack: DemoStack;
  let idp: Idp;
  let demoDb: string;
  let cp: ControlPlane;
  let agentA: Agent;
  let agentB: Agent;
  let alice: string;

  before(async () => {
    stack = await startDemoStack({
      name: 'identity',
      customers: 300,
      groups: ['analysts', 'contractors', 'ci'],
      agents: ['agent-a', 'agent-b'],
    });
    ({ idp, cp, alice, demoDb } = stack);
    [agentA, agentB] = stack.agents as [Agent, Agent];
  });

  after(async () => {
    await stack?.stop();
  });

  /** Resolves with the time and message when the server ends the client's session. */
  function whenCutOff(client: pg.Client): Promise<{ at: number; message: string }> {
    return new Promise((resolve) => {
      let message = '';
      client.on('error', (error) => {
        message ||= error.message;
      });
      client.on('end', () => resolve({ at: performance.now(), message }));
    });
  }

  test('disabling dave ends his sessions on both agents within a second; carol is untouched', async () => {
    const dave = await userToken(idp, 'dave');
    const daveSubject = decodeJwt(dave).sub!;
    const carol = agentClient(agentA, await userToken(idp, 'carol'), 'carol');
    await carol.connect();

    // The control plane learns of dave from his first session's recording.
    const probe = agentClient(agentA, dave, 'dave');
    await probe.connect();
    await probe.end();
    await eventually(async () => (await api(cp, alice, 'GET', `/api/v1/identities/${daveSubject}`)).status === 200, {
      what: 'dave seen by the control plane',
    });

    const latencies: number[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt > 0) {
        const enabled = await api(cp, alice, 'POST', `/api/v1/identities/${daveSubject}/enable`, {
          reason: 'next try',
        });
        assert.equal(enabled.status, 200, enabled.text);
      }
      // An open psql-like session on A, and a loop of queries on B.
      const held = await eventually(
        async () => {
          const c = agentClient(agentA, dave, 'dave');
          await c.connect();
          return c;
        },
        { what: 'dave re-enabled on A' },
      );
      const looping = await eventually(
        async () => {
          const c = agentClient(agentB, dave, 'dave');
          await c.connect();
          return c;
        },
        { what: 'dave re-enabled on B' },
      );
      const heldClosed = whenCutOff(held);
      const loopClosed = whenCutOff(looping);
      let loopRunning = true;
      // A query in flight gets the FATAL error itself; the client then reports the lost socket.
      const loop = (async (): Promise<string> => {
        while (loopRunning) {
          try {
            await looping.query('select count(*) from customers');
          } catch (error) {
            return (error as Error).message;
          }
        }
        return '';
      })();

      const t0 = performance.now();
      const disabled = await api(cp, alice, 'POST', `/api/v1/identities/${daveSubject}/disable`, {
        reason: 'contract ended',
      });
      assert.equal(disabled.status, 200, disabled.text);
      const [a, b] = await Promise.all([heldClosed, loopClosed]);
      loopRunning = false;
      const loopError = await loop;
      latencies.push(Math.max(a.at, b.at) - t0);
      assert.match(a.message, /disabled/, `held session: ${a.message}`);
      // Between two queries the FATAL reaches the idle client instead of a query: either way, seen.
      assert.match(`${loopError} | ${b.message}`, /disabled/, `looping session: ${loopError} | ${b.message}`);
    }

    // His still-valid token opens nothing, on either agent.
    for (const agent of [agentA, agentB]) {
      const refused = agentClient(agent, dave, 'dave');
      await assert.rejects(
        refused.connect(),
        (e: any) => ['28000', '28P01'].includes(e.code) && /disabled/.test(e.message),
      );
    }
    // carol's session went on through all of it.
    assert.equal((await carol.query('select count(*)::int as n from customers')).rows[0].n, 300);
    await carol.end();

    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `disable -> last socket closed, ${latencies.length} tries: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    assert.ok(p99 < 2000, `p99 ${p99} ms exceeds 2 s`);

    const audit = await api(cp, alice, 'GET', '/api/v1/audit?action=identity.disable');
    assert.ok(audit.body.items.some((e: any) => e.details?.reason === 'contract ended'));
  });

  test('refusals and bad input: unknown subject 404, last admin 409, unknown connection 400', async () => {
    assert.equal(
      (await api(cp, alice, 'POST', '/api/v1/identities/no-such-subject/disable', { reason: 'x' })).status,
      404,
    );
    const aliceSubject = decodeJwt(alice).sub!;
    const lastAdmin = await api(cp, alice, 'POST', `/api/v1/identities/${aliceSubject}/disable`, { reason: 'oops' });
    assert.equal(lastAdmin.status, 409, lastAdmin.text);
    const badGrant = await api(cp, alice, 'POST', '/api/v1/grants', {
      connection: 'no-such-connection',
      group: 'analysts',
    });
    assert.equal(badGrant.status, 400);
    assert.match(badGrant.body.message, /no-such-connection/);
    // A refused token is an audit fact with its reason.
    const dave = await userToken(idp, 'dave');
    await assert.rejects(agentClient(agentA, `${dave.slice(0, -4)}AAAA`, 'dave').connect());
    await eventually(
      async () => {
        const refused = await api(cp, alice, 'GET', '/api/v1/audit?action=access.refused');
        return refused.body.items?.some((e: any) => /signature|disabled|token/.test(String(e.details?.reason)));
      },
      { what: 'refusal audited' },
    );
  });

  test('a grant with an expiry works until it expires, with no further action', async () => {
    const ci = await clientToken(idp);
    const ciSubject = decodeJwt(ci).sub!;
    const created = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'expiring-pg',
      kind: 'postgres',
      target: `postgresql://portcullis_demo_reader@127.0.0.1:5432/${demoDb}`,
      credential: { secretRef: 'env:DEMO_PG_PASSWORD' },
    });
    assert.equal(created.status, 201);
    const expiresAt = new Date(Date.now() + 5000).toISOString();
    const grant = await api(cp, alice, 'POST', '/api/v1/grants', {
      connection: 'expiring-pg',
      subject: ciSubject,
      expiresAt,
      reason: 'five seconds',
    });
    assert.equal(grant.status, 201, grant.text);
    const connect = async () => {
      const c = agentClient(agentA, ci, 'ci-bot', { database: 'expiring-pg' });
      await c.connect();
      await c.end();
    };
    await eventually(async () => (await connect(), true), { what: 'the grant works' });
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 300);
    await assert.rejects(connect(), (e: any) => e.code === '28000' && /no grant/.test(e.message));
  });

  test('a CI job with only client credentials and the control plane address runs psql through the nearest agent', async () => {
    const cli = join(repoRoot, 'apps/cli/dist/main.js');
    const env = {
      ...process.env,
      PORTCULLIS_URL: cp.url,
      PORTCULLIS_CLIENT_ID: 'ci-bot',
      PORTCULLIS_CLIENT_SECRET: 'ci-bot-secret',
      XDG_CONFIG_HOME: join(agentA.dataDir, 'cli-config'),
    };
    const { stdout } = await run(
      process.execPath,
      [cli, 'run', 'demo-pg', '--', 'psql', '-X', '-A', '-t', '-c', 'select count(*) from customers'],
      { env },
    );
    assert.equal(stdout.trim(), '300');

    // `env` picks a serving agent, and the next one when that one is down.
    const exports = (await run(process.execPath, [cli, 'env', 'demo-pg'], { env })).stdout;
    const port = Number(/PGPORT=['"]?(\d+)/.exec(exports)?.[1]);
    assert.ok([agentA.pgPort, agentB.pgPort].includes(port), exports);
    const chosen = port === agentA.pgPort ? agentA : agentB;
    const other = chosen === agentA ? agentB : agentA;
    await chosen.stop();
    try {
      const next = (await run(process.execPath, [cli, 'env', 'demo-pg'], { env })).stdout;
      assert.equal(Number(/PGPORT=['"]?(\d+)/.exec(next)?.[1]), other.pgPort, next);
      assert.match(next, /PGDATABASE=['"]?demo-pg/);
      assert.match(next, /PGPASSWORD=/);
    } finally {
      await chosen.restart();
    }
  });
});
