// AgentService over real gRPC against a real control-plane process, PostgreSQL and Redis:
// authentication, Hello/Welcome, snapshots filtered by network labels, pushes on change, presence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import type pg from 'pg';
import { newAgentToken } from '../dist/agents/agent-token.js';
import { SecretBox } from '../dist/common/secret-box.js';
import { AppConfig } from '../dist/config/app-config.js';
import {
  configChanges,
  createDatabase,
  eventually,
  FakeAgent,
  insertAgent,
  noIdp,
  pgClient,
  redisUrl,
  startControlPlane,
  type ControlPlane,
} from './agent-support.js';

const secretKey = Buffer.alloc(32, 7).toString('base64');

describe('AgentService', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let sql: pg.Client;
  let bus: ReturnType<typeof configChanges>;
  const agents: FakeAgent[] = [];
  const open = (token: string | undefined) => {
    const a = new FakeAgent(cp.grpcAddress, token);
    agents.push(a);
    return a;
  };

  before(async () => {
    db = await createDatabase('cp_gateway');
    cp = await startControlPlane({
      idp: noIdp as never,
      databaseUrl: db.url,
      env: { PORTCULLIS_SECRET_KEY: secretKey },
    });
    sql = await pgClient(db.url);
    bus = configChanges(db.url, redisUrl);
  });

  after(async () => {
    for (const a of agents) a.close();
    await bus?.close();
    await sql?.end();
    await cp?.stop();
    await db?.drop();
  });

  test('refuses a missing, malformed, wrong or revoked token with UNAUTHENTICATED', async () => {
    const agent = await insertAgent(sql, 'auth-probe', ['default']);
    const revoked = await insertAgent(sql, 'auth-revoked', ['default']);
    await sql.query('UPDATE agents SET revoked_at = now() WHERE id = $1', [revoked.id]);
    const wrongSecret = newAgentToken(agent.id);
    const unknownAgent = newAgentToken(randomUUID());
    for (const token of [undefined, 'not-a-token', wrongSecret, unknownAgent, revoked.token]) {
      const a = open(token);
      a.hello();
      const end = await a.ended;
      assert.equal(end.code, status.UNAUTHENTICATED, `token ${token}`);
      assert.equal(a.received.length, 0, 'nothing is sent to an unauthenticated stream');
    }
    const { rows } = await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id]);
    assert.equal(rows[0].online, false);
  });

  test('refuses a stream whose first message is not Hello', async () => {
    const { token } = await insertAgent(sql, 'no-hello', ['default']);
    const a = open(token);
    a.send({ $case: 'heartbeat', value: { liveSessions: 0, counters: {} } });
    const end = await a.ended;
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.details, /first message must be Hello/);
  });

  test('welcomes the agent and sends the snapshot for its registration labels', async () => {
    const box = new SecretBox(new AppConfig({ PORTCULLIS_SECRET_KEY: secretKey }));
    const ids = await bus.changes.apply(async (tx) => {
      const pgA = await tx.connection.create({
        data: {
          name: 'orders-a',
          kind: 'postgres',
          target: 'postgresql://db-a:5432/orders',
          networkLabels: ['net-a'],
          secretRef: 'env:ORDERS_PW',
        },
      });
      const shared = await tx.connection.create({
        data: {
          name: 'llm-shared',
          kind: 'http',
          target: 'https://llm.internal',
          networkLabels: ['net-b', 'net-a'],
          secretSealed: box.seal('sk-shared-value'),
          options: { header: 'authorization' },
        },
      });
      const onlyB = await tx.connection.create({
        data: {
          name: 'billing-b',
          kind: 'postgres',
          target: 'postgresql://db-b:5432/billing',
          networkLabels: ['net-b'],
        },
      });
      const expiresAt = new Date(Date.now() + 3_600_000);
      const g1 = await tx.grant.create({ data: { connectionId: pgA.id, group: 'analysts' } });
      const g2 = await tx.grant.create({ data: { connectionId: shared.id, subject: 'sub-carol', expiresAt } });
      await tx.grant.create({
        data: { connectionId: pgA.id, group: 'expired', expiresAt: new Date(Date.now() - 1000) },
      });
      await tx.grant.create({ data: { connectionId: onlyB.id, group: 'billing' } });
      await tx.identity.create({
        data: { subject: 'sub-dave', username: 'dave', disabledAt: new Date(), disableReason: 'left the company' },
      });
      await tx.identity.create({ data: { subject: 'sub-erin', username: 'erin' } });
      return { pgA: pgA.id, shared: shared.id, g1: g1.id, g2: g2.id, expiresAt };
    });
    const version = Number((await sql.query('SELECT version FROM config_state WHERE id = 1')).rows[0].version);

    const agent = await insertAgent(sql, 'agent-net-a', ['net-a']);
    const a = open(agent.token);
    a.hello();
    const welcome = await a.next('welcome');
    assert.equal(welcome.index, 0, 'Welcome comes first');
    assert.deepEqual(welcome.value, {
      agentId: agent.id,
      agentName: 'agent-net-a',
      heartbeatIntervalMs: 500,
      nextRecordingSeq: 1,
    });
    const { value: snap } = await a.next('config');

    assert.equal(snap.version, version);
    assert.deepEqual(
      snap.connections.map((c) => c.name),
      ['llm-shared', 'orders-a'],
      'only connections labelled net-a',
    );
    const byName = new Map(snap.connections.map((c) => [c.name, c]));
    assert.deepEqual(byName.get('orders-a')?.credential, { source: { $case: 'secretRef', value: 'env:ORDERS_PW' } });
    assert.deepEqual(byName.get('llm-shared')?.credential, { source: { $case: 'value', value: 'sk-shared-value' } });
    assert.deepEqual(byName.get('llm-shared')?.options, { header: 'authorization' });
    assert.deepEqual(
      snap.grants.map((g) => [g.id, g.connectionId, g.group, g.subject, g.expiresAt?.getTime()]).sort(),
      [
        [ids.g1, ids.pgA, 'analysts', '', undefined],
        [ids.g2, ids.shared, '', 'sub-carol', ids.expiresAt.getTime()],
      ].sort(),
      'grants of served connections only, expired ones left out',
    );
    assert.deepEqual(snap.identity, {
      issuer: `${noIdp.url}/realms/portcullis`,
      audiences: ['portcullis'],
      jwksUri: `${noIdp.url}/realms/portcullis/protocol/openid-connect/certs`,
      clockSkewSeconds: 30,
    });
    assert.deepEqual(snap.disabledIdentities, [{ subject: 'sub-dave', username: 'dave', reason: 'left the company' }]);

    const { rows } = await sql.query('SELECT * FROM agents WHERE id = $1', [agent.id]);
    assert.equal(rows[0].online, true);
    assert.equal(rows[0].version, 'test-agent/1');
    assert.equal(rows[0].hostname, 'agent-host');
    assert.deepEqual(rows[0].addresses, [{ protocol: 'postgres', address: '10.0.0.5:15432' }]);
    assert.deepEqual(rows[0].labels, ['net-a'], 'labels reported in Hello do not replace the registered ones');
    assert.ok(rows[0].connected_at && rows[0].last_seen_at);
    assert.ok(!cp.process.output.includes('sk-shared-value'), 'the credential never reaches the log');
  });

  test('a committed change reaches the stream in well under a second', async () => {
    const agent = await insertAgent(sql, 'agent-push', ['net-push']);
    const a = open(agent.token);
    a.hello();
    const first = await a.next('config');
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await bus.changes.apply((tx) =>
        tx.connection.create({
          data: { name: `pushed-${i}`, kind: 'postgres', target: 'postgresql://h/d', networkLabels: ['net-push'] },
        }),
      );
      const pushed = await a.next('config', { from: first.index + 1 + i, timeoutMs: 1000 });
      latencies.push(performance.now() - started);
      assert.ok(pushed.value.connections.some((c) => c.name === `pushed-${i}`));
    }
    const worst = Math.max(...latencies);
    console.log(`change -> snapshot on the agent stream: ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`);
    assert.ok(worst < 1000, `worst push latency ${worst.toFixed(1)} ms`);
  });

  test('skips the snapshot the agent already holds, and pushes the next one', async () => {
    const agent = await insertAgent(sql, 'agent-current', ['net-a']);
    const version = Number((await sql.query('SELECT version FROM config_state WHERE id = 1')).rows[0].version);
    const a = open(agent.token);
    a.hello(version);
    await a.next('welcome');
    await assert.rejects(a.next('config', { timeoutMs: 700 }), /no config/);
    await bus.changes.apply((tx) =>
      tx.identity.create({ data: { subject: `sub-${randomUUID()}`, disabledAt: new Date() } }),
    );
    const pushed = await a.next('config', { timeoutMs: 1000 });
    assert.equal(pushed.value.version, version + 1);
  });

  test('stores acks, rejections and heartbeats; a stream that ends marks the agent offline', async () => {
    const agent = await insertAgent(sql, 'agent-acks', ['net-a']);
    const a = open(agent.token);
    a.hello();
    const { value: snap } = await a.next('config');
    a.send({ $case: 'configRejected', value: { version: snap.version, error: 'unknown kind' } });
    await eventually(
      async () => (await sql.query('SELECT config_error FROM agents WHERE id = $1', [agent.id])).rows[0].config_error,
      {
        what: 'config error stored',
      },
    );
    a.send({ $case: 'configAck', value: { version: snap.version } });
    a.send({ $case: 'heartbeat', value: { liveSessions: 3, counters: {} } });
    await eventually(
      async () => {
        const r = (await sql.query('SELECT * FROM agents WHERE id = $1', [agent.id])).rows[0];
        return Number(r.config_version_acked) === snap.version && r.config_error === null && r.live_sessions === 3;
      },
      { what: 'ack and heartbeat stored' },
    );
    a.close();
    await eventually(
      async () => (await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id])).rows[0].online === false,
      {
        what: 'offline after the stream ended',
      },
    );
  });

  test('a new stream of the same agent replaces the old one and keeps it online', async () => {
    const agent = await insertAgent(sql, 'agent-twice', ['net-a']);
    const first = open(agent.token);
    first.hello();
    await first.next('config');
    const second = open(agent.token);
    second.hello();
    await second.next('config');
    const end = await first.ended;
    assert.equal(end.code, status.CANCELLED);
    assert.match(end.details, /replaced/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id])).rows[0].online, true);
  });

  test('an agent that goes silent is marked offline by the sweep', async () => {
    const agent = await insertAgent(sql, 'agent-silent', ['net-a']);
    const a = open(agent.token);
    a.hello();
    await a.next('config');
    // The stream stays open but no heartbeat comes: offline after AGENT_OFFLINE_AFTER_MS (2 s).
    await eventually(
      async () => (await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id])).rows[0].online === false,
      {
        timeoutMs: 5000,
        what: 'silent agent offline',
      },
    );
  });

  test('revoking an agent closes its stream with UNAUTHENTICATED', async () => {
    const agent = await insertAgent(sql, 'agent-revoke', ['net-a']);
    const a = open(agent.token);
    a.hello();
    await a.next('config');
    await bus.changes.apply((tx) => tx.agent.update({ where: { id: agent.id }, data: { revokedAt: new Date() } }));
    const end = await a.ended;
    assert.equal(end.code, status.UNAUTHENTICATED);
  });
});

describe('AgentService transport', () => {
  test('refuses to start with neither TLS nor GRPC_INSECURE=true', async () => {
    const db = await createDatabase('cp_notls');
    try {
      await assert.rejects(
        startControlPlane({ idp: noIdp as never, databaseUrl: db.url, env: { GRPC_INSECURE: 'false' } }),
        /refuses to start without TLS: set GRPC_TLS_CERT and GRPC_TLS_KEY/,
      );
    } finally {
      await db.drop();
    }
  });

  test('on SIGTERM ends agent streams with UNAVAILABLE and records the agents offline', async () => {
    const db = await createDatabase('cp_shutdown');
    const cp = await startControlPlane({ idp: noIdp as never, databaseUrl: db.url });
    const sql = await pgClient(db.url);
    try {
      const agent = await insertAgent(sql, 'agent-shutdown', ['default']);
      const a = new FakeAgent(cp.grpcAddress, agent.token);
      a.hello();
      await a.next('config');
      await cp.stop();
      assert.equal((await a.ended).code, status.UNAVAILABLE);
      a.close();
      const { rows } = await sql.query('SELECT online FROM agents WHERE id = $1', [agent.id]);
      assert.equal(rows[0].online, false, 'offline as soon as the process is gone, not after the sweep');
    } finally {
      await sql.end();
      await cp.stop();
      await db.drop();
    }
  });

  test('serves TLS from GRPC_TLS_CERT / GRPC_TLS_KEY', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-tls-'));
    const db = await createDatabase('cp_tls');
    let cp: ControlPlane | undefined;
    let a: FakeAgent | undefined;
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      cp = await startControlPlane({
        idp: noIdp as never,
        databaseUrl: db.url,
        env: { GRPC_INSECURE: 'false', GRPC_TLS_CERT: join(dir, 'cert.pem'), GRPC_TLS_KEY: join(dir, 'key.pem') },
      });
      const sql = await pgClient(db.url);
      const agent = await insertAgent(sql, 'agent-tls', ['default']);
      await sql.end();
      a = new FakeAgent(cp.grpcAddress, agent.token, credentials.createSsl(readFileSync(join(dir, 'cert.pem'))));
      a.hello();
      assert.equal((await a.next('welcome')).value.agentId, agent.id);
    } finally {
      a?.close();
      await cp?.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
