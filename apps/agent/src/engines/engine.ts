import type { Server } from 'node:net';
import type { Connection } from '@portcullis/proto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ActivePolicy } from '../policy/active-policy.js';
import type { Recorder } from '../recorder/recorder.js';
import type { SnapshotSource } from '../snapshot/snapshot-source.js';

/**
 * One engine per protocol (postgres, http), registered by name in agent.ts. An engine owns its
 * listener and every client connection on it; it reads config per connection from the
 * SnapshotSource, checks identity with the shared verifier and access checks, and reports to
 * the Recorder.
 */
export interface Engine {
  readonly protocol: 'postgres' | 'http';
  /** Start listening; resolves with the bound address once ready. */
  listen(): Promise<{ host: string; port: number }>;
  /** End every client session of this subject now (identity disabled), with the reason given. */
  endSessionsOf(subject: string, reason: string): number;
  /** Number of live client sessions. */
  liveSessions(): number;
  close(): Promise<void>;
}

/** What main gives an engine factory (registered by protocol name in agent.ts). */
export interface EngineDeps {
  /** Where to listen (PORTCULLIS_PG_LISTEN / PORTCULLIS_HTTP_LISTEN); port 0 picks a free one. */
  listen: { host: string; port: number };
  snapshots: SnapshotSource;
  /** The policy in force (compiled from the snapshot); read `current()` per statement/request. */
  policy: ActivePolicy;
  recorder: Recorder;
  /** Upstream password of a connection, resolved at each use; throws CredentialError. */
  resolveCredential: (connection: Connection) => string | undefined;
  /** The agent's Prometheus registry: engines register their own counters here. */
  metrics: Registry;
  log: Logger;
}

export type EngineFactory = (deps: EngineDeps) => Engine;

/** Binds an engine's server; resolves with the bound address (port 0 picks a free one). */
export function listenOn(
  server: Server,
  where: { host: string; port: number },
  log: Logger,
  what: string,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      const address = server.address() as import('node:net').AddressInfo;
      log.info({ address: address.address, port: address.port }, `${what} listener ready`);
      resolve({ host: address.address, port: address.port });
    });
  });
}
