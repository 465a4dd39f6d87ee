import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigSnapshot } from '@portcullis/proto';
import type { Logger } from 'pino';
import { SnapshotPolicy } from '../policy/active-policy.js';
import type { AgentMetrics } from '../status/metrics.js';
import { readSnapshotFile, sealSnapshot, writeFileAtomic } from './snapshot-file.js';
import type { SnapshotSource } from './snapshot-source.js';
import { validateSnapshot } from './validate.js';

export type ApplyResult = { ok: true; applied: boolean } | { ok: false; error: string };

export interface SnapshotStoreOptions {
  dataDir: string;
  /** Seals credential values on disk; never logged. */
  agentToken: string;
  /** refuse: `current()` is undefined while the control plane is away, so engines fail closed. */
  offlineMode: 'serve' | 'refuse';
  log: Logger;
  metrics?: AgentMetrics;
  /** Compiled with each snapshot; a policy that does not compile rejects the snapshot. */
  policy?: SnapshotPolicy;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The snapshot being served. A new snapshot is validated whole, then swapped in with one reference
 * assignment: a reader sees the old snapshot or the new one, never a mix. Snapshots are frozen,
 * so no reader can change what another sees.
 */
export class SnapshotStore implements SnapshotSource {
  private snapshot: ConfigSnapshot | undefined;
  private online = false;
  private readonly listeners: Array<(next: ConfigSnapshot, previous: ConfigSnapshot | undefined) => void> = [];
  /** Applies run one after another, so files and memory see snapshots in arrival order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly path: string;
  private readonly policy: SnapshotPolicy;

  constructor(private readonly options: SnapshotStoreOptions) {
    this.path = join(options.dataDir, 'snapshot.json');
    this.policy = options.policy ?? new SnapshotPolicy();
  }

  /** Loads the last persisted snapshot; an unreadable file is logged and ignored (start empty). */
  async load(): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    try {
      const loaded = await readSnapshotFile(this.path, this.options.agentToken);
      if (!loaded) return;
      const problem = validateSnapshot(loaded);
      if (problem) throw new Error(problem);
      const policy = this.policy.compile(loaded);
      if (!policy.ok) throw new Error(policy.error);
      this.policy.install(policy.policy);
      this.swap(loaded);
      this.options.log.info({ configVersion: loaded.version, connections: loaded.connections.length }, 'serving last snapshot from disk until the control plane sends one');
    } catch (err) {
      this.options.log.warn({ path: this.path, err: (err as Error).message }, 'ignoring the snapshot on disk');
    }
  }

  current(): ConfigSnapshot | undefined {
    if (this.options.offlineMode === 'refuse' && !this.online) return undefined;
    return this.snapshot;
  }

  /** The last applied snapshot, whether or not it is being served (status pages). */
  lastApplied(): ConfigSnapshot | undefined {
    return this.snapshot;
  }

  version(): number {
    return this.snapshot?.version ?? 0;
  }

  onApplied(listener: (next: ConfigSnapshot, previous: ConfigSnapshot | undefined) => void): void {
    this.listeners.push(listener);
  }

  setControlPlaneConnected(online: boolean): void {
    this.online = online;
  }

  /**
   * Validates and applies a snapshot from the control plane, then persists it. The same version
   * again is a no-op; an older one is refused, so a stale sender can never roll back a revocation.
   * A failure to persist is logged and counted but the snapshot still applies: serving the newest
   * desired state matters more than the copy used for offline restarts.
   */
  apply(candidate: ConfigSnapshot): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(candidate));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(candidate: ConfigSnapshot): Promise<ApplyResult> {
    const current = this.version();
    if (candidate.version === current && current > 0) return { ok: true, applied: false };
    let problem =
      candidate.version < current
        ? `version ${candidate.version} is older than the applied version ${current}`
        : validateSnapshot(candidate);
    const policy = problem ? undefined : this.policy.compile(candidate);
    if (policy && !policy.ok) problem = policy.error;
    if (problem || !policy?.ok) {
      this.options.metrics?.snapshotApplyErrors.inc();
      this.options.log.warn({ configVersion: candidate.version, error: problem }, 'config snapshot rejected; keeping the previous one');
      return { ok: false, error: problem ?? 'policy not compiled' };
    }
    this.policy.install(policy.policy);
    this.swap(candidate);
    try {
      await writeFileAtomic(this.path, sealSnapshot(candidate, this.options.agentToken));
    } catch (err) {
      this.options.metrics?.snapshotApplyErrors.inc();
      this.options.log.error({ path: this.path, err: (err as Error).message }, 'could not persist the snapshot; an offline restart would serve an older one');
    }
    this.options.log.info({ configVersion: candidate.version, connections: candidate.connections.length }, 'config snapshot applied');
    return { ok: true, applied: true };
  }

  private swap(next: ConfigSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = deepFreeze(next);
    this.options.metrics?.configVersion.set(next.version);
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.options.log.error({ err }, 'snapshot listener failed');
      }
    }
  }
}
