// Issue 7, "test connection": an admin asks the control plane, which asks an agent serving the
// connection over its stream; the agent opens the real upstream with the injected credential and
// the answer (or the upstream's error) comes back. Real IdP, control planes, agent, PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PrivateCluster } from '../../apps/agent/src/engines/postgres/testing/private-cluster.js';
import { FakeAgent } from '../../apps/control-plane/test/agent-support.js';
import { eventually, repoRoot } from '../lib/process.js';
import {
  api,
  createDatabase,
  tempDir,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  userToken,
  type Agent,
  type ControlPlane,
  type Idp,
} from '../lib/stack.js';

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('test connection', () => {
  // Random, so finding it anywhere means it leaked from there.
  const wrongPassword = `wrong-${Math.random().toString(36).slice(2)}-pw`;
  let idp: Idp;
  let store: Awaited<ReturnType<typeof createDatabase>>;
  let cluster: PrivateCluster;
  let cp: ControlPlane;
  let replica: ControlPlane;
  let agent: Agent;
  let alice: string;

  const testOf = (name: string, on: ControlPlane = cp, token = alice) =>
    api(on, token, 'POST', `/api/v1/connections/${encodeURIComponent(name)}/test`);
  const create = async (body: Record<string, unknown>) => {
    const res = await api(cp, alice, 'POST', '/api/v1/connections', body);
    assert.equal(res.status, 201, res.text);
  };
  const pgTarget = () => `postgresql://scram_user@127.0.0.1:${cluster.port}/postgres`;

  before(async () => {
    idp = await startIdp();
    store = await createDatabase('e2e_conntest_store');
    // The shared server trusts loopback logins; password checks need a server of our own.
    cluster = await PrivateCluster.start();
    cp = await startControlPlane({ idp, databaseUrl: store.url });
    replica = await startControlPlane({ idp, databaseUrl: store.url });
    alice = await userToken(idp, 'alice');
    const reg = await registerAgent(cp, alice, 'tester');
    agent = await startAgent({
      controlPlane: cp,
      token: reg.token,
      env: { GOOD_PG_PASSWORD: cluster.passwords.scram },
    });
  });

  after(async () => {
    await agent?.stop();
    await replica?.stop();
    await cp?.stop();
    await idp?.stop();
    await store?.drop();
    await cluster?.stop();
  });

  test('a good postgres connection answers ok with the server version, right after it is created', async () => {
    // Tested at once: the control plane pushes the new snapshot to the agent before it asks.
    await create({
      name: 'good-pg',
      kind: 'postgres',
      target: pgTarget(),
      credential: { secretRef: 'env:GOOD_PG_PASSWORD' },
    });
    const res = await testOf('good-pg');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.ok, true, res.text);
    assert.match(res.body.detail, /^PostgreSQL 15\.\d+.*, logged in as scram_user to database postgres$/);
    assert.equal(res.body.connection, 'good-pg');
    assert.equal(res.body.agent.name, 'tester');
    assert.equal(res.body.error, null);
    assert.ok(res.body.latencyMs > 0 && res.body.latencyMs < 5000, `latency ${res.body.latencyMs}`);
    assert.ok(!res.text.includes(cluster.passwords.scram), 'the credential is in the answer');
  });

  test("a wrong password answers the upstream's error (28P01), and the password is nowhere", async () => {
    await create({ name: 'bad-pg', kind: 'postgres', target: pgTarget(), credential: { value: wrongPassword } });
    const res = await testOf('bad-pg');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.ok, false);
    assert.equal(res.body.error.code, '28P01');
    assert.match(res.body.error.message, /password authentication failed for user "scram_user"/);
    assert.ok(!res.text.includes(wrongPassword), 'the password is in the answer');

    const audit = await api(cp, alice, 'GET', '/api/v1/audit?action=connection.test');
    const entry = audit.body.items.find((e: any) => e.target === 'connection:bad-pg');
    assert.deepEqual(
      { actor: entry?.actor, outcome: entry?.outcome, code: entry?.details.errorCode, agent: entry?.details.agent },
      { actor: 'alice', outcome: 'failed', code: '28P01', agent: 'tester' },
    );
    assert.ok(!audit.text.includes(wrongPassword), 'the password is in the audit trail');
    assert.ok(!cp.process.output.includes(wrongPassword), 'the password is in the control plane log');
    assert.ok(!agent.process.output.includes(wrongPassword), 'the password is in the agent log');
  });

  test('an http connection to a closed port answers the connection error', async () => {
    const port = await closedPort();
    await create({
      name: 'closed-http',
      kind: 'http',
      target: `http://127.0.0.1:${port}/`,
      credential: { value: 'k-123456' },
    });
    const res = await testOf('closed-http');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.ok, false);
    assert.equal(res.body.error.code, 'ECONNREFUSED');
    assert.match(res.body.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  test('unknown connection 404, non-admin 403, no agent serving it 503', async () => {
    const unknown = await testOf('no-such-connection');
    assert.equal(unknown.status, 404, unknown.text);
    assert.match(unknown.body.message, /"no-such-connection" does not exist/);

    // bob is a steward: he may read connections, not test them.
    const bob = await userToken(idp, 'bob');
    assert.equal((await api(cp, bob, 'GET', '/api/v1/connections/good-pg')).status, 200);
    assert.equal((await testOf('good-pg', cp, bob)).status, 403);

    await create({ name: 'elsewhere', kind: 'postgres', target: pgTarget(), networkLabels: ['net-nobody'] });
    const unserved = await testOf('elsewhere');
    assert.equal(unserved.status, 503, unserved.text);
    assert.match(unserved.body.message, /no online agent serves connection "elsewhere" \(network labels: net-nobody\)/);
  });

  test('the CLI shows the answer and exits 1 when the upstream refused', async () => {
    const home = tempDir('portcullis-cli-home-');
    const cli = (name: string) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [join(repoRoot, 'apps/cli/dist/main.js'), 'connections', 'test', name],
          { env: { PATH: process.env.PATH, HOME: home.path, PORTCULLIS_URL: cp.url, PORTCULLIS_TOKEN: alice } },
          (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
        ),
      );
    try {
      const good = await cli('good-pg');
      assert.equal(good.code, 0, good.stdout);
      assert.match(good.stdout, /Result:\s+ok\n/);
      assert.match(good.stdout, /Answer:\s+PostgreSQL 15\.\d+.*logged in as scram_user/);
      const bad = await cli('bad-pg');
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, /Error:\s+password authentication failed for user "scram_user" \(28P01\)/);
    } finally {
      home.remove();
    }
  });

  test("through another control-plane replica than the one holding the agent's stream", async () => {
    const res = await testOf('good-pg', replica);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.ok, true, res.text);
    assert.match(res.body.detail, /logged in as scram_user/);
  });

  test('only the agent asked can answer: an answer from another agent with the same request id is ignored', async () => {
    const asked = new FakeAgent(cp.grpcAddress, (await registerAgent(cp, alice, 'asked', ['net-asked'])).token);
    const other = new FakeAgent(cp.grpcAddress, (await registerAgent(cp, alice, 'other', ['net-other'])).token);
    try {
      asked.hello();
      other.hello();
      await asked.next('welcome');
      await other.next('welcome');
      await create({ name: 'asked-pg', kind: 'postgres', target: pgTarget(), networkLabels: ['net-asked'] });
      const answer = testOf('asked-pg');
      const { value: request } = await asked.next('connectionTestRequest');
      const result = { requestId: request.requestId, latencyMs: 1, errorCode: '', errorMessage: '' };
      other.send({ $case: 'connectionTestResult', value: { ...result, ok: true, detail: 'spoofed by another agent' } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      asked.send({ $case: 'connectionTestResult', value: { ...result, ok: true, detail: 'from the agent asked' } });
      const res = await answer;
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.agent.name, 'asked');
      assert.equal(res.body.detail, 'from the agent asked');
    } finally {
      asked.close();
      other.close();
    }
  });

  test('an agent that does not answer: 504 after the wait, and the agent is fine afterwards', async () => {
    const pid = agent.process.pid!;
    process.kill(pid, 'SIGSTOP');
    let res;
    try {
      res = await testOf('good-pg');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.equal(res.status, 504, res.text);
    assert.match(res.body.message, /agent tester was asked to test "good-pg" but it did not answer within 10 s/);
    await eventually(async () => (await testOf('good-pg')).body.ok === true, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'test ok again',
    });
  });
});
