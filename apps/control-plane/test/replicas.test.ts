// Two control-plane processes sharing PostgreSQL and Redis, as replicas behind a load balancer:
// a change made through one reaches agents held by the other, and an agent moving between them
// keeps exactly one stream and stays online.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type pg from 'pg';
import {
  createDatabase,
  eventually,
  FakeAgent,
  insertAgent,
  pgClient,
  startControlPlane,
  type ControlPlane,
} from './agent-support.js';
import { api, startIssuer, type TestIssuer } from './support.js';

describe('control-plane replicas', () => {
  let issuer: TestIssuer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let a: ControlPlane;
  let b: ControlPlane;
  let sql: pg.Client;
  let admin: string;
  const streams: FakeAgent[] = [];
  const open = (cp: ControlPlane, token: string) => {
    const s = new FakeAgent(cp.grpcAddress, token);
    streams.push(s);
    s.hello();
    return s;
  };

  before(async () => {
    issuer = await startIssuer();
    db = await createDatabase('cp_replicas');
    a = await startControlPlane({ idp: { url: issuer.keycloakUrl } as never, databaseUrl: db.url });
    b = await startControlPlane({ idp: { url: issuer.keycloakUrl } as never, databaseUrl: db.url });
    sql = await pgClient(db.url);
    admin = await issuer.token({ sub: 'alice-sub', username: 'alice', roles: ['admin'] });
  });

  after(async () => {
    for (const s of streams) s.close();
    await sql?.end();
    await a?.stop();
    await b?.stop();
    await db?.drop();
    await issuer?.close();
  });

  test('a connection created through B reaches agents on A and on B within a second', async () => {
    const onA = await insertAgent(sql, 'agent-on-a', ['net-r']);
    const onB = await insertAgent(sql, 'agent-on-b', ['net-r']);
    const other = await insertAgent(sql, 'agent-elsewhere', ['net-other']);
    const sa = open(a, onA.token);
    const sb = open(b, onB.token);
    const so = open(a, other.token);
    const [firstA, firstB, firstO] = await Promise.all([sa.next('config'), sb.next('config'), so.next('config')]);

    // The first request of a process fetches the issuer's keys; the change below is what is timed.
    assert.equal((await api(b.url, 'GET', '/api/v1/connections', { token: admin })).status, 200);
    let from = { a: firstA.index + 1, b: firstB.index + 1, o: firstO.index + 1 };
    const timings: string[] = [];
    for (const name of ['replicated', 'replicated-2', 'replicated-3']) {
      const started = performance.now();
      const res = await api(b.url, 'POST', '/api/v1/connections', {
        token: admin,
        body: { name, kind: 'postgres', target: 'postgresql://db:5432/app', networkLabels: ['net-r'] },
      });
      assert.equal(res.status, 201, res.text);
      const committed = performance.now();
      const [pushedA, pushedB, pushedO] = await Promise.all([
        sa.next('config', { from: from.a, timeoutMs: 1000 }),
        sb.next('config', { from: from.b, timeoutMs: 1000 }),
        so.next('config', { from: from.o, timeoutMs: 1000 }),
      ]);
      const pushed = performance.now() - committed;
      timings.push(`${(performance.now() - started).toFixed(0)} ms (${pushed.toFixed(0)} after the 201)`);
      // The REST call itself (token check, audit, commit) is not the gateway's; what follows is.
      assert.ok(pushed < 1000, `${name} reached the agents ${pushed.toFixed(0)} ms after the 201`);
      assert.ok(
        pushedA.value.connections.some((c) => c.name === name),
        'agent on A got it',
      );
      assert.ok(
        pushedB.value.connections.some((c) => c.name === name),
        'agent on B got it',
      );
      assert.deepEqual(pushedO.value.connections, [], 'network labels decide who receives a connection');
      assert.equal(pushedA.value.version, pushedB.value.version);
      from = { a: pushedA.index + 1, b: pushedB.index + 1, o: pushedO.index + 1 };
    }
    console.log(`REST change on B -> snapshot on agents of A and B: ${timings.join(', ')}`);
  });

  test('an agent reconnecting to the other replica keeps one stream and stays online', async () => {
    const agent = await insertAgent(sql, 'agent-moving', ['net-r']);
    const first = open(a, agent.token);
    await first.next('config');
    const second = open(b, agent.token);
    await second.next('config');
    const end = await first.ended;
    assert.equal(end.code, status.CANCELLED, 'the older stream on A is closed');
    assert.match(end.details, /replaced/);
    // A's stream ending must not mark offline the agent whose newer stream B holds.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id])).rows[0].online, true);
    second.close();
    await eventually(
      async () => (await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id])).rows[0].online === false,
      {
        what: 'offline once its only stream ended',
      },
    );
  });
});
