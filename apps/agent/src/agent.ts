import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { formatHostPort, type AdvertisedAddress, type AgentConfig, type HostPort } from './config.js';
import { testConnection } from './connection-test/connection-test.js';
import { ControlClient } from './control/control-client.js';
import { init as initPolicyEngine } from '@portcullis/policy';
import type { Engine, EngineFactory } from './engines/engine.js';
import { SnapshotPolicy } from './policy/active-policy.js';
import { Shipper } from './recorder/shipper.js';
import { Spool } from './recorder/spool.js';
import { resolveCredential } from './snapshot/credentials.js';
import { SnapshotStore } from './snapshot/snapshot-store.js';
import { AgentMetrics } from './status/metrics.js';
import { StatusServer, type AgentStatus } from './status/status-server.js';

export type EngineName = 'postgres' | 'http';

export interface RunningAgent {
  /** Bound addresses per engine, and of the status server. */
  listening: { engines: Partial<Record<EngineName, HostPort>>; status: HostPort };
  status(): AgentStatus;
  store: SnapshotStore;
  spool: Spool;
  metrics: AgentMetrics;
  /** Stop accepting, end sessions, flush the spool, close the stream. */
  stop(): Promise<void>;
}

export const agentVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Wires the agent: snapshot store (last snapshot from disk) → recorder spool and shipper →
 * engines → status server → control stream. Engines come from `engines`, by protocol name.
 */
/** Knobs tests turn; production uses the defaults. */
export interface AgentTuning {
  spoolSegmentBytes?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  refusedRetryMs?: number;
}

export async function startAgent(
  config: AgentConfig,
  log: Logger,
  engines: Partial<Record<EngineName, EngineFactory>>,
  tuning: AgentTuning = {},
): Promise<RunningAgent> {
  const metrics = new AgentMetrics(agentVersion);
  // The SQL parser (WASM) loads once, before any listener can ask for a decision.
  await initPolicyEngine();
  const policy = new SnapshotPolicy();
  const store = new SnapshotStore({ dataDir: config.dataDir, agentToken: config.agentToken, offlineMode: config.offlineMode, log, metrics, policy });
  await store.load();
  const spool = await Spool.open({
    dir: join(config.dataDir, 'spool'),
    maxBytes: config.spoolMaxBytes,
    failureMode: config.recordingFailure,
    segmentBytes: tuning.spoolSegmentBytes,
    log: log.child({ part: 'spool' }),
    metrics,
  });
  const shipper = new Shipper(spool, { log: log.child({ part: 'shipper' }) });

  const running: Array<{ name: EngineName; engine: Engine; address: HostPort }> = [];
  const listenOf: Record<EngineName, HostPort> = { postgres: config.pgListen, http: config.httpListen };
  for (const [name, factory] of Object.entries(engines) as Array<[EngineName, EngineFactory]>) {
    const engine = factory({
      listen: listenOf[name],
      snapshots: store,
      policy,
      recorder: spool,
      resolveCredential: (connection) => resolveCredential(connection),
      metrics: metrics.registry,
      log: log.child({ engine: name }),
    });
    running.push({ name, engine, address: await engine.listen() });
  }
  const liveSessions = (): number => running.reduce((sum, { engine }) => sum + engine.liveSessions(), 0);
  metrics.observe({ liveSessions, spool: () => spool.stats() });

  const advertised = (): AdvertisedAddress[] =>
    config.advertise ??
    running.map(({ name, address }) => ({
      protocol: name,
      address: formatHostPort({ host: ['0.0.0.0', '::'].includes(address.host) ? hostname() : address.host, port: address.port }),
    }));
  const control = new ControlClient({
    address: config.controlPlane,
    agentToken: config.agentToken,
    insecure: config.controlPlaneInsecure,
    caFile: config.controlPlaneCaFile,
    version: agentVersion,
    labels: config.labels,
    addresses: advertised,
    store,
    spool,
    shipper,
    engines: () => running.map(({ engine }) => engine),
    testConnection: (connection) => testConnection(connection, { resolveCredential: (c) => resolveCredential(c) }),
    log: log.child({ part: 'control' }),
    metrics,
    initialBackoffMs: tuning.initialBackoffMs,
    maxBackoffMs: tuning.maxBackoffMs,
    refusedRetryMs: tuning.refusedRetryMs,
  });

  const status = (): AgentStatus => {
    const control_ = control.status();
    const snapshot = store.lastApplied();
    const spoolStats = spool.stats();
    return {
      agentId: control_.agentId ?? null,
      agentName: control_.agentName ?? null,
      connected: control_.connected,
      configVersion: snapshot?.version ?? null,
      connections: snapshot?.connections.map((c) => c.name) ?? [],
      labels: config.labels,
      spool: { bytes: spoolStats.bytes, backlog: spoolStats.backlog },
      lastError: control_.lastError ?? null,
    };
  };
  const statusServer = new StatusServer({ listen: config.statusListen, metrics, status, healthy: () => running.length > 0, log });
  const statusAddress = await statusServer.listen();
  control.start();

  return {
    listening: { engines: Object.fromEntries(running.map(({ name, address }) => [name, address])), status: statusAddress },
    status,
    store,
    spool,
    metrics,
    async stop() {
      await Promise.allSettled(running.map(({ engine }) => engine.close()));
      await spool.close();
      await control.stop();
      await statusServer.close();
    },
  };
}
