import { randomBytes } from 'node:crypto';
import type { ConfigSnapshot, SessionEnd, SessionStart, Statement } from '@portcullis/proto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { init, type PolicyInput } from '@portcullis/policy';
import { SnapshotPolicy } from '../../../policy/active-policy.js';
import { TokenVerifier } from '../../../identity/token-verifier.js';
import { MemorySnapshots } from '../../../identity/testing/memory-snapshots.js';
import { TestIdp } from '../../../identity/testing/test-idp.js';
import type { Recorder } from '../../../recorder/recorder.js';
import { PostgresEngine, type PostgresEngineOptions } from '../postgres-engine.js';

export const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A Recorder that keeps every event, in order, for assertions. */
export class CollectingRecorder implements Recorder {
  accepts = true;
  readonly events: (
    | { type: 'start'; sessionId: string; start: SessionStart }
    | { type: 'statement'; sessionId: string; statement: Statement }
    | { type: 'end'; sessionId: string; end: SessionEnd }
  )[] = [];

  accepting(): boolean {
    return this.accepts;
  }
  sessionStart(sessionId: string, start: SessionStart): void {
    this.events.push({ type: 'start', sessionId, start });
  }
  statement(sessionId: string, statement: Statement): void {
    this.events.push({ type: 'statement', sessionId, statement });
  }
  sessionEnd(sessionId: string, end: SessionEnd): void {
    this.events.push({ type: 'end', sessionId, end });
  }

  statements(sessionId?: string): Statement[] {
    return this.events.flatMap((e) =>
      e.type === 'statement' && (!sessionId || e.sessionId === sessionId) ? [e.statement] : [],
    );
  }
  ends(): { sessionId: string; end: SessionEnd }[] {
    return this.events.flatMap((e) => (e.type === 'end' ? [{ sessionId: e.sessionId, end: e.end }] : []));
  }
  starts(): { sessionId: string; start: SessionStart }[] {
    return this.events.flatMap((e) => (e.type === 'start' ? [{ sessionId: e.sessionId, start: e.start }] : []));
  }
  /** Waits until `predicate` holds (events arrive asynchronously to the client's view). */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error('timed out waiting for recorder events');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Everything a PostgreSQL engine test needs, real where a user has real parts: a database and a
 * role on the local PostgreSQL, a JWKS served over HTTP, an engine on a free port.
 */
export class Harness {
  readonly database = `pc_agent_${randomBytes(5).toString('hex')}`;
  readonly role = `pc_role_${randomBytes(5).toString('hex')}`;
  password = randomBytes(12).toString('hex');
  /** Upstream of connection `sales`; defaults to a fresh database on the shared server. */
  target = '';
  readonly recorder = new CollectingRecorder();
  readonly metrics = new Registry();
  idp!: TestIdp;
  snapshots!: MemorySnapshots;
  /** The policy the engine enforces; none (guardrails only) until `usePolicy`. */
  readonly policy = new SnapshotPolicy();
  engine!: PostgresEngine;
  port = 0;

  static async start(
    options: Partial<PostgresEngineOptions> = {},
    upstream?: { target: string; password: string },
  ): Promise<Harness> {
    const harness = new Harness();
    await harness.init(options, upstream);
    return harness;
  }

  private async init(
    options: Partial<PostgresEngineOptions>,
    upstream?: { target: string; password: string },
  ): Promise<void> {
    if (upstream) {
      this.target = upstream.target;
      this.password = upstream.password;
    } else {
      this.target = `postgresql://${this.role}@127.0.0.1:5432/${this.database}`;
      await admin(`CREATE ROLE ${this.role} LOGIN PASSWORD '${this.password}'`);
      await admin(`CREATE DATABASE ${this.database} OWNER ${this.role}`);
    }
    await init();
    this.idp = await TestIdp.start();
    this.snapshots = new MemorySnapshots(this.snapshot());
    this.engine = new PostgresEngine({
      host: '127.0.0.1',
      port: 0,
      snapshots: this.snapshots,
      policy: this.policy,
      verifier: new TokenVerifier(this.snapshots),
      recorder: this.recorder,
      resolveCredential: () => this.password,
      metrics: this.metrics,
      ...options,
    });
    this.port = (await this.engine.listen()).port;
  }

  /** The snapshot: connection `sales` (this database) granted to group `analysts`. */
  snapshot(patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
    return {
      version: 1,
      connections: [
        {
          id: 'conn-sales',
          name: 'sales',
          kind: 'postgres',
          target: this.target,
          credential: { source: { $case: 'value', value: this.password } },
          networkLabels: [],
          options: undefined,
        },
        {
          id: 'conn-down',
          name: 'down',
          kind: 'postgres',
          target: `postgresql://${this.role}@127.0.0.1:1/${this.database}`,
          credential: undefined,
          networkLabels: [],
          options: undefined,
        },
      ],
      grants: [
        { id: 'g1', connectionId: 'conn-sales', group: 'analysts', subject: '', expiresAt: undefined },
        { id: 'g2', connectionId: 'conn-down', group: 'analysts', subject: '', expiresAt: undefined },
      ],
      identity: this.idp.settings(),
      disabledIdentities: [],
      generatedAt: new Date(),
      ...patch,
    };
  }

  /** Puts a policy in force, as a snapshot carrying it would (throws if it does not compile). */
  usePolicy(document: Omit<PolicyInput, 'version'>, version = 1, hashKey = 'test-hash-key'): void {
    const compiled = this.policy.compile(this.snapshot({ policy: { version, document: document as never, hashKey } }));
    if (!compiled.ok) throw new Error(compiled.error);
    this.policy.install(compiled.policy);
  }

  token(username = 'carol', options: Parameters<TestIdp['token']>[1] = {}): Promise<string> {
    return this.idp.token(username, { groups: ['analysts'], ...options });
  }

  /** A pg client through the agent, logged in with a fresh token for `username`. */
  async client(username = 'carol', config: pg.ClientConfig = {}): Promise<pg.Client> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      database: 'sales',
      user: username,
      password: await this.token(username),
      ...config,
    });
    await client.connect();
    return client;
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.idp.close();
    if (this.target.includes(this.database)) {
      await admin(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
      await admin(`DROP ROLE IF EXISTS ${this.role}`);
    }
  }
}

export async function admin(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Connects through the agent expecting a refusal; returns the error's SQLSTATE and message. */
export async function refusal(config: pg.ClientConfig): Promise<{ code: string; message: string }> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('login was not refused');
}
