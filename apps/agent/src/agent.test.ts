import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Statement } from '@portcullis/proto';
import { pino } from 'pino';
import { startAgent, type AgentTuning, type RunningAgent } from './agent.js';
import type { AgentConfig } from './config.js';
import { TestControlPlane } from './control/testing/test-control-plane.js';
import type { Engine, EngineDeps } from './engines/engine.js';
import { PASSWORD, snapshotFixture } from './snapshot/testing/fixtures.js';
import type { AgentStatus } from './status/status-server.js';

const log = pino({ level: 'silent' });
const TOKEN = 'agent-token-for-tests';
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A listener standing in for an engine: counts sessions and remembers kill requests. */
class ListeningEngine implements Engine {
  readonly protocol = 'postgres' as const;
  readonly killed: Array<{ subject: string; reason: string }> = [];
  live = 2;
  private readonly server: Server = createServer((socket) => socket.end());
  constructor(private readonly deps: EngineDeps) {}
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve) =>
      this.server.listen(this.deps.listen.port, this.deps.listen.host, () =>
        resolve({ host: this.deps.listen.host, port: (this.server.address() as AddressInfo).port }),
      ),
    );
  }
  endSessionsOf(subject: string, reason: string): number {
    this.killed.push({ subject, reason });
    return 1;
  }
  liveSessions(): number {
    return this.live;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function configFor(cp: TestControlPlane, dataDir: string, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    controlPlane: cp.address,
    agentToken: TOKEN,
    controlPlaneInsecure: true,
    controlPlaneCaFile: undefined,
    dataDir,
    labels: ['default', 'net-a'],
    pgListen: { host: '127.0.0.1', port: 0 },
    httpListen: { host: '127.0.0.1', port: 0 },
    statusListen: { host: '127.0.0.1', port: 0 },
    advertise: undefined,
    spoolMaxBytes: 256 * 1024 * 1024,
    recordingFailure: 'refuse',
    offlineMode: 'serve',
    logLevel: 'silent',
    ...overrides,
  };
}

interface Started {
  agent: RunningAgent;
  engine: ListeningEngine;
  statusUrl: string;
  status(): Promise<AgentStatus>;
}

async function start(config: AgentConfig, tuning: AgentTuning = {}): Promise<Started> {
  let engine!: ListeningEngine;
  const agent = await startAgent(config, log, { postgres: (deps) => (engine = new ListeningEngine(deps)) }, tuning);
  let stopped = false;
  const stop = agent.stop.bind(agent);
  agent.stop = async () => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
  cleanups.push(() => agent.stop());
  const statusUrl = `http://127.0.0.1:${agent.listening.status.port}`;
  return { agent, engine, statusUrl, status: async () => (await (await fetch(`${statusUrl}/status`)).json()) as AgentStatus };
}

async function startControlPlane(port?: number, tls?: { cert: Buffer; key: Buffer }): Promise<TestControlPlane> {
  const cp = new TestControlPlane(TOKEN);
  await cp.start(port, tls);
  cleanups.push(() => cp.stop());
  return cp;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-agent-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const statement = (text: string): Statement => ({
  index: 1, kind: 'select', text, parameters: [], commandTag: 'SELECT 1', rowCount: 1, errorCode: '', errorMessage: '',
  durationMs: 1, resultJson: '', result: undefined, decision: { action: 'allow', ruleIds: [], policyVersion: 1, reason: '', maskedCounts: {} }, traceId: '',
});

describe('agent against a control plane', () => {
  it('applies and acknowledges snapshots, rejects bad ones, and serves the last one after a restart with the control plane down', async () => {
    const cp = await startControlPlane();
    cp.snapshot = snapshotFixture(1);
    const dataDir = tempDir();
    const first = await start(configFor(cp, dataDir));
    await eventually(() => cp.messagesOf('configAck').length > 0, 'ack of snapshot 1');
    assert.deepEqual(cp.messagesOf('configAck'), [{ version: 1 }]);
    assert.equal((await first.status()).configVersion, 1);
    const hello = cp.hellos[0]!;
    assert.deepEqual(hello.labels, ['default', 'net-a']);
    assert.deepEqual(hello.addresses, [{ protocol: 'postgres', address: `127.0.0.1:${first.agent.listening.engines.postgres!.port}` }]);
    assert.equal(hello.lastConfigVersion, 0);

    cp.push(snapshotFixture(2, ['demo-pg', 'reports']));
    await eventually(() => cp.messagesOf('configAck').some((ack) => ack.version === 2), 'ack of version 2');
    assert.deepEqual((await first.status()).connections, ['demo-pg', 'reports']);

    const bad = snapshotFixture(3, ['demo-pg']);
    bad.connections[0]!.target = 'not a url';
    cp.push(bad);
    const rejected = await eventually(() => cp.messagesOf('configRejected')[0], 'ConfigRejected');
    assert.equal(rejected.version, 3);
    assert.match(rejected.error, /target must be a postgres: or postgresql: URL/);
    assert.equal(first.agent.store.current()?.version, 2, 'the previous snapshot is kept');
    assert.ok(!readFileSync(join(dataDir, 'snapshot.json'), 'utf8').includes(PASSWORD), 'credential in clear on disk');

    // The control plane goes away; the restarted agent serves version 2 from disk.
    await first.agent.stop();
    const port = cp.port;
    cp.stop();
    const second = await start(configFor(cp, dataDir));
    const offline = await second.status();
    assert.equal(offline.connected, false);
    assert.equal(offline.configVersion, 2);
    assert.deepEqual(offline.connections, ['demo-pg', 'reports']);
    assert.equal(second.agent.store.current()?.connections[0]?.credential?.source?.value, PASSWORD);
    assert.equal((await fetch(`${second.statusUrl}/healthz`)).status, 200);

    // Back online: the agent tells the control plane which version it already has.
    const back = await startControlPlane(port);
    await eventually(async () => (await second.status()).connected, 'reconnected');
    assert.equal(back.hellos[0]!.lastConfigVersion, 2);
  });

  it('reconnects within 5 s of the control plane coming back', async () => {
    const cp = await startControlPlane();
    const { status } = await start(configFor(cp, tempDir())); // production backoff
    await eventually(async () => (await status()).connected, 'connected');
    const port = cp.port;
    cp.stop();
    await eventually(async () => !(await status()).connected, 'disconnect noticed');
    await new Promise((resolve) => setTimeout(resolve, 6000)); // long enough for every backoff to reach its cap
    const restartedAt = Date.now();
    await startControlPlane(port);
    await eventually(async () => (await status()).connected, 'reconnected', 5000);
    const took = Date.now() - restartedAt;
    console.log(`reconnected ${took} ms after the control plane came back`);
    assert.ok(took < 5000, `reconnected after ${took} ms`);
  });

  it('ships recordings, resends what was not stored after a reconnect, and deletes acknowledged segments', async () => {
    const cp = await startControlPlane();
    cp.autoAck = false;
    const dataDir = tempDir();
    const { agent, status } = await start(configFor(cp, dataDir), { spoolSegmentBytes: 8 * 1024 });
    await eventually(async () => (await status()).connected, 'connected');
    agent.spool.sessionStart('s1', { subject: 'u-carol', username: 'carol', groups: ['analysts'], connection: 'demo-pg', protocol: 'postgres', clientAddress: '127.0.0.1:5000', applicationName: 'psql', traceId: '' });
    // Without acks the agent keeps at most 8 batches in flight: send fewer than that.
    for (let i = 0; i < 299; i++) {
      agent.spool.statement('s1', statement(`select ${i}`));
      if (i % 50 === 49) await agent.spool.flush();
    }
    await agent.spool.flush();
    await eventually(() => cp.stored.size === 300, 'all 300 events received');
    assert.equal((await status()).spool.backlog, 300, 'nothing acknowledged yet');
    const segments = readdirSync(join(dataDir, 'spool')).length;
    assert.ok(segments >= 3, `${segments} segments`);

    // The control plane restarts having lost what it had not committed: the agent resends it all.
    const port = cp.port;
    cp.stop();
    await eventually(async () => !(await status()).connected, 'disconnect noticed');
    const back = await startControlPlane(port);
    await eventually(() => back.stored.size === 300, 'resent after reconnect');
    assert.deepEqual([...back.stored.keys()].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.equal(back.stored.get(1)!.body?.$case, 'sessionStart');
    const last = back.stored.get(300)!.body;
    assert.equal(last?.$case === 'statement' && last.value.text, 'select 298');

    await eventually(async () => (await status()).spool.backlog === 0, 'backlog acknowledged');
    await eventually(() => readdirSync(join(dataDir, 'spool')).length === 1, 'acknowledged segments deleted');

    // seq goes on after a restart of the agent.
    await agent.stop();
    const again = await start(configFor(back, dataDir));
    again.agent.spool.statement('s2', statement('after restart'));
    await eventually(() => back.stored.has(301), 'event 301 after the agent restarted');
    assert.equal(back.stored.size, 301);
  });

  it('keeps at most 8 batches in flight until the control plane acknowledges', async () => {
    const cp = await startControlPlane();
    cp.autoAck = false;
    const batches = () => cp.messagesOf('recordingBatch');
    const { agent, status } = await start(configFor(cp, tempDir()), { spoolSegmentBytes: 4 * 1024 });
    await eventually(async () => (await status()).connected, 'connected');
    for (let i = 0; i < 2000; i++) {
      agent.spool.statement('s', statement(`select ${i}`));
      if (i % 40 === 39) await agent.spool.flush();
    }
    await eventually(() => batches().length === 8, '8 batches');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(batches().length, 8, 'more than 8 batches in flight');
    assert.ok(cp.stored.size < 2000);

    cp.send({ body: { $case: 'recordingAck', value: { upToSeq: batches().at(-1)!.lastSeq } } });
    cp.autoAck = true;
    await eventually(() => cp.stored.size === 2000, 'the rest after the ack');
    assert.equal(cp.contiguousUpTo(), 2000);
  });

  it('beats, ends sessions on request, and shows metrics and status', async () => {
    const cp = await startControlPlane();
    cp.snapshot = snapshotFixture(7, ['demo-pg', 'demo-vectors']);
    const { agent, engine, statusUrl, status } = await start(configFor(cp, tempDir()));
    await eventually(async () => (await status()).configVersion === 7, 'snapshot applied');

    const beat = await eventually(() => cp.messagesOf('heartbeat')[0], 'a heartbeat');
    assert.equal(beat.liveSessions, 2);

    cp.send({ body: { $case: 'killSessions', value: { subject: 'u-dave', reason: 'identity disabled' } } });
    await eventually(() => engine.killed.length === 1, 'KillSessions reached the engine');
    assert.deepEqual(engine.killed, [{ subject: 'u-dave', reason: 'identity disabled' }]);

    agent.spool.statement('s', statement('select 1'));
    await agent.spool.flush();
    const body = await status();
    assert.deepEqual(
      { ...body, spool: { ...body.spool, bytes: body.spool.bytes > 0 } },
      {
        agentId: 'agent-1',
        agentName: 'test-agent',
        connected: true,
        configVersion: 7,
        connections: ['demo-pg', 'demo-vectors'],
        labels: ['default', 'net-a'],
        spool: { bytes: true, backlog: body.spool.backlog },
        lastError: null,
      },
    );

    const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
    assert.match(metrics, /^portcullis_agent_connected 1$/m);
    assert.match(metrics, /^portcullis_agent_config_version 7$/m);
    assert.match(metrics, /^portcullis_agent_sessions_live 2$/m);
    assert.match(metrics, /^portcullis_agent_build_info\{version="0\.1\.0",node="v[\d.]+"\} 1$/m);
    assert.match(metrics, /^portcullis_agent_spool_bytes [1-9]\d*$/m);
    assert.match(metrics, /^portcullis_agent_spool_backlog_events \d+$/m);
    assert.match(metrics, /^portcullis_agent_shipping_lag_seconds [\d.e-]+$/m);
    assert.match(metrics, /^# TYPE portcullis_agent_recording_failures_total counter$/m);
    assert.match(metrics, /^# TYPE portcullis_agent_snapshot_apply_errors_total counter$/m);
    assert.ok(!metrics.includes(TOKEN) && !JSON.stringify(body).includes(TOKEN));
    assert.equal((await fetch(`${statusUrl}/nope`)).status, 404);
  });

  it('speaks TLS by default and trusts the CA given in PORTCULLIS_CONTROL_PLANE_CA', async () => {
    const dir = tempDir();
    const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    sh('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
    sh('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=control-plane', '-keyout', 'cp.key', '-out', 'cp.csr');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    sh('x509', '-req', '-in', 'cp.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'cp.pem');
    const cp = await startControlPlane(0, { cert: readFileSync(join(dir, 'cp.pem')), key: readFileSync(join(dir, 'cp.key')) });

    const trusting = await start(configFor(cp, tempDir(), { controlPlaneInsecure: false, controlPlaneCaFile: join(dir, 'ca.pem') }));
    await eventually(async () => (await trusting.status()).connected, 'connected over TLS');

    const plaintext = await start(configFor(cp, tempDir(), { controlPlaneInsecure: true }));
    const untrusting = await start(configFor(cp, tempDir(), { controlPlaneInsecure: false }));
    await eventually(async () => (await untrusting.status()).lastError, 'a TLS failure');
    await eventually(async () => (await plaintext.status()).lastError, 'a plaintext failure');
    assert.equal((await untrusting.status()).connected, false, 'connected without trusting the CA');
    assert.equal((await plaintext.status()).connected, false, 'connected in plaintext to a TLS port');
    assert.equal(cp.hellos.length, 1);
  });

  it('says clearly when the control plane refuses the agent token', async () => {
    const cp = await startControlPlane();
    const { status } = await start(configFor(cp, tempDir(), { agentToken: 'wrong-token' }), { refusedRetryMs: 60_000 });
    const refused = await eventually(async () => {
      const s = await status();
      return s.lastError ? s : undefined;
    }, 'refusal');
    assert.equal(refused.lastError, 'agent token refused by the control plane');
    assert.equal(refused.connected, false);
    assert.equal(cp.connectedAgents(), 0);
  });
});
