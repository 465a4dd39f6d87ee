// Issue 2 acceptance: a real dev IdP, control planes, agents, PostgreSQL and Redis, as processes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AgentServiceClient, type ControlMessage } from '@portcullis/proto';
import { decodeJwt } from 'jose';
import { eventually, repoRoot } from '../lib/process.js';
import {
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

const run = promisify(execFile);

describe('platform: IdP, control plane, agents on a live config stream', () => {
  let idp: Idp;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let cp2: ControlPlane;
  let alice: string;
  let carol: string;
  const agents: Agent[] = [];

  before(async () => {
    idp = await startIdp();
    db = await createDatabase('e2e_platform');
    cp = await startControlPlane({ idp, databaseUrl: db.url });
    cp2 = await startControlPlane({ idp, databaseUrl: db.url });
    alice = await userToken(idp, 'alice');
    carol = await userToken(idp, 'carol');
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all([cp?.stop(), cp2?.stop()]);
    await idp?.stop();
    await db?.drop();
  });

  async function createConnection(name: string, labels = ['default'], through = cp): Promise<string> {
    const res = await api(through, alice, 'POST', '/api/v1/connections', {
      name,
      kind: 'postgres',
      target: `postgresql://reader@127.0.0.1:5432/${name.replace(/-/g, '_')}`,
      networkLabels: labels,
      credential: { secretRef: 'env:SOME_PASSWORD' },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  }

  test('the CLI prints a client-credentials JWT issued by the realm', async () => {
    const { stdout } = await run(process.execPath, [
      join(repoRoot, 'apps/cli/dist/main.js'),
      'token',
      '--client-id',
      'ci-bot',
      '--client-secret',
      'ci-bot-secret',
      '--issuer',
      idp.issuer,
    ]);
    const claims = decodeJwt(stdout.trim());
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.typ, 'Bearer');
    assert.ok((claims.groups as string[]).includes('ci'));
  });

  test('REST refuses missing tokens (401) and non-admins on admin endpoints (403)', async () => {
    assert.equal((await api(cp, undefined, 'GET', '/api/v1/connections')).status, 401);
    assert.equal((await api(cp, 'not-a-token', 'GET', '/api/v1/connections')).status, 401);
    const forbidden = await api(cp, carol, 'POST', '/api/v1/connections', {
      name: 'carol-made',
      kind: 'postgres',
      target: 'postgresql://x@127.0.0.1:5432/x',
    });
    assert.equal(forbidden.status, 403);
    assert.equal((await api(cp, carol, 'POST', '/api/v1/agents', { name: 'carol-agent' })).status, 403);
    assert.equal((await api(cp, alice, 'GET', '/api/v1/connections/carol-made')).status, 404);
  });

  test('a credential value is stored sealed and never returned or logged', async () => {
    const secret = `s3cret-${Date.now()}-value`;
    const created = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'sealed-pg',
      kind: 'postgres',
      target: 'postgresql://reader@127.0.0.1:5432/sealed',
      credential: { value: secret },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.credential, { type: 'value', set: true });
    assert.ok(!created.text.includes(secret));
    const read = await api(cp, alice, 'GET', '/api/v1/connections/sealed-pg');
    assert.equal(read.status, 200);
    assert.ok(!read.text.includes(secret));
    const list = await api(cp, alice, 'GET', '/api/v1/connections');
    assert.ok(!list.text.includes(secret));
    // Not in the store in clear either.
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const rows = await client.query('SELECT secret_sealed FROM connections WHERE name = $1', ['sealed-pg']);
    await client.end();
    assert.ok(rows.rows[0].secret_sealed && !rows.rows[0].secret_sealed.includes(secret));
    assert.ok(!cp.process.output.includes(secret), 'control plane log holds the credential');
    assert.ok(!cp2.process.output.includes(secret), 'second control plane log holds the credential');
  });

  test('bad bodies get a 400 naming the field', async () => {
    const badKind = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'bad-kind',
      kind: 'mongodb',
      target: 'postgresql://x@127.0.0.1/x',
    });
    assert.equal(badKind.status, 400);
    assert.match(badKind.body.message, /kind/);
    const missing = await api(cp, alice, 'POST', '/api/v1/connections', { name: 'no-target', kind: 'postgres' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /target/);
    const malformed = await api(cp, alice, 'POST', '/api/v1/connections', '{"name": ');
    assert.equal(malformed.status, 400);
    assert.equal((await api(cp, alice, 'GET', '/api/v1/connections/bad-kind')).status, 404);
  });

  test('a wrong agent token is refused with UNAUTHENTICATED', async () => {
    const client = new AgentServiceClient(cp.grpcAddress, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer pca_00000000000000000000000000000000_wrong');
    const call = client.connect(metadata);
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      call.on('status', resolve);
      call.on('error', () => {});
      call.on('data', (_m: ControlMessage) => {});
      call.write({ body: { $case: 'hello', value: { version: 'test', labels: [], addresses: [], lastConfigVersion: 0, hostname: 'x' } } });
    });
    client.close();
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
  });

  test('connections reach the agent within 1 s, only on its network, and leave within 1 s', async () => {
    const a = await registerAgent(cp, alice, 'agent-a', ['net-a']);
    const b = await registerAgent(cp, alice, 'agent-b', ['net-b']);
    const agentA = await startAgent({ controlPlane: cp, token: a.token, labels: ['net-a'] });
    const agentB = await startAgent({ controlPlane: cp, token: b.token, labels: ['net-b'] });
    agents.push(agentA, agentB);

    let t0 = Date.now();
    await createConnection('only-a', ['net-a']);
    await eventually(async () => (await agentA.status()).connections.includes('only-a'), { timeoutMs: 1000, what: 'only-a on agent A' });
    const pushMs = Date.now() - t0;
    await createConnection('only-b', ['net-b']);
    await eventually(async () => (await agentB.status()).connections.includes('only-b'), { timeoutMs: 1000, what: 'only-b on agent B' });
    assert.ok(!(await agentA.status()).connections.includes('only-b'), 'agent A got a connection of net-b');
    assert.ok(!(await agentB.status()).connections.includes('only-a'), 'agent B got a connection of net-a');

    t0 = Date.now();
    assert.equal((await api(cp, alice, 'DELETE', '/api/v1/connections/only-a')).status, 204);
    await eventually(async () => !(await agentA.status()).connections.includes('only-a'), { timeoutMs: 1000, what: 'only-a gone' });
    console.log(`config push: create reached agent in ${pushMs} ms, delete in ${Date.now() - t0} ms`);

    // Scale-out: a change through the second replica reaches an agent held by the first.
    t0 = Date.now();
    await createConnection('via-second', ['net-a'], cp2);
    await eventually(async () => (await agentA.status()).connections.includes('via-second'), { timeoutMs: 1000, what: 'change via replica 2' });
    console.log(`config push across replicas: ${Date.now() - t0} ms`);

    const listed = await api(cp2, alice, 'GET', '/api/v1/agents');
    const viewA = listed.body.items.find((x: any) => x.id === a.id);
    assert.equal(viewA.status, 'online');
    assert.deepEqual(viewA.labels, ['net-a']);
    await eventually(async () => {
      const view = (await api(cp, alice, 'GET', `/api/v1/agents/${a.id}`)).body;
      return Number(view.configVersionAcked) === Number((await agentA.status()).configVersion);
    }, { what: 'agent A acked the latest version' });
  });

  test('the agent survives the control plane: serves its snapshot, reconnects within 5 s', async () => {
    const reg = await registerAgent(cp, alice, 'agent-survivor', ['net-s']);
    await createConnection('survivor-db', ['net-s']);
    const agent = await startAgent({ controlPlane: cp, token: reg.token, labels: ['net-s'] });
    agents.push(agent);
    await eventually(async () => (await agent.status()).connections.includes('survivor-db'), { what: 'survivor-db' });

    await cp.kill();
    await eventually(async () => !(await agent.status()).connected, { what: 'agent notices' });
    assert.ok((await agent.status()).connections.includes('survivor-db'), 'snapshot lost while the control plane is down');

    // An agent started while the control plane is down serves its persisted snapshot.
    await agent.stop();
    const offline = await startAgent({
      controlPlane: cp,
      token: reg.token,
      labels: ['net-s'],
      dataDir: agent.dataDir,
      waitConnected: false,
    });
    agents.push(offline);
    const st = await offline.status();
    assert.equal(st.connected, false);
    assert.ok(st.connections.includes('survivor-db'), 'persisted snapshot not served');

    const t0 = Date.now();
    await cp.restart();
    await eventually(async () => (await offline.status()).connected, { timeoutMs: 5000, what: 'reconnect within 5 s' });
    console.log(`agent reconnected ${Date.now() - t0} ms after the control plane restart began`);
    await createConnection('after-restart', ['net-s']);
    await eventually(async () => (await offline.status()).connections.includes('after-restart'), { timeoutMs: 1000, what: 'change after restart' });
    await eventually(async () => {
      const view = (await api(cp, alice, 'GET', `/api/v1/agents/${reg.id}`)).body;
      return view.status === 'online' && Number(view.configVersionAcked) === Number((await offline.status()).configVersion);
    }, { what: 'online with the latest version acked' });
  });

  test('restarting the control plane duplicates nothing', async () => {
    const before = await api(cp, alice, 'GET', '/api/v1/connections');
    const agentsBefore = await api(cp, alice, 'GET', '/api/v1/agents');
    await cp.stop();
    await cp.restart();
    const afterConnections = await api(cp, alice, 'GET', '/api/v1/connections');
    const afterAgents = await api(cp, alice, 'GET', '/api/v1/agents');
    assert.deepEqual(afterConnections.body.items.map((c: any) => c.id).sort(), before.body.items.map((c: any) => c.id).sort());
    assert.deepEqual(afterAgents.body.items.map((a: any) => a.id).sort(), agentsBefore.body.items.map((a: any) => a.id).sort());
    const dup = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'sealed-pg',
      kind: 'postgres',
      target: 'postgresql://reader@127.0.0.1:5432/sealed',
    });
    assert.equal(dup.status, 409);
  });

  test('health, readiness and the OpenAPI document', async () => {
    assert.equal((await fetch(`${cp.url}/healthz`)).status, 200);
    const ready = await fetch(`${cp.url}/readyz`);
    assert.equal(ready.status, 200);
    const docs = (await (await fetch(`${cp.url}/api/docs-json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(docs.paths['/api/v1/connections'], 'connections are documented');
    assert.ok(docs.paths['/api/v1/agents'], 'agents are documented');
  });
});

