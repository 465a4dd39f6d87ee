// Helpers for the AgentService tests: agents registered in the store, a gRPC client that behaves
// like an agent, and ConfigChangesService run as one more replica would run it.
import { randomUUID } from 'node:crypto';
import {
  credentials,
  Metadata,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { AgentServiceClient, type AgentMessage, type ControlMessage } from '@portcullis/proto';
import pg from 'pg';
import { hashAgentToken, newAgentToken } from '../dist/agents/agent-token.js';
import { AppConfig } from '../dist/config/app-config.js';
import { ChangeBus } from '../dist/config-stream/change-bus.js';
import { ConfigChangesService } from '../dist/config-stream/config-changes.service.js';
import { PrismaService } from '../dist/db/prisma.service.js';

export { createDatabase, redisUrl, startControlPlane, type ControlPlane } from '../../../e2e/lib/stack.js';
export { eventually } from '../../../e2e/lib/process.js';

/** The control plane needs an issuer URL to put in snapshots; these tests never fetch from it. */
export const noIdp = { url: 'http://127.0.0.1:9/idp' } as const;

/** Registers an agent straight in the store, the way the REST registration leaves it. */
export async function insertAgent(
  db: pg.Client,
  name: string,
  labels: string[],
): Promise<{ id: string; token: string }> {
  const id = randomUUID();
  const token = newAgentToken(id);
  await db.query('INSERT INTO agents (id, name, token_hash, labels, updated_at) VALUES ($1, $2, $3, $4, now())', [
    id,
    name,
    hashAgentToken(token),
    labels,
  ]);
  return { id, token };
}

/**
 * ConfigChangesService exactly as a replica runs it, in the test process: a change committed here
 * is announced on Redis like one made through the REST API of any replica.
 */
export function configChanges(
  databaseUrl: string,
  redis: string,
): { changes: ConfigChangesService; close(): Promise<void> } {
  const config = new AppConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redis });
  const prisma = new PrismaService(config);
  const bus = new ChangeBus(config);
  return {
    changes: new ConfigChangesService(prisma, bus),
    async close() {
      await bus.onModuleDestroy();
      await prisma.$disconnect();
    },
  };
}

type Body = NonNullable<ControlMessage['body']>;
type Case = Body['$case'];
type ValueOf<C extends Case> = Extract<Body, { $case: C }>['value'];

/** One Connect stream driven the way an agent drives it, with every control message kept in order. */
export class FakeAgent {
  readonly received: ControlMessage[] = [];
  /** Resolves with the status the stream ended with. */
  readonly ended: Promise<{ code: number; details: string }>;
  private readonly call: ClientDuplexStream<AgentMessage, ControlMessage>;
  private readonly client: AgentServiceClient;
  private waiters: Array<() => void> = [];

  constructor(address: string, token: string | undefined, creds: ChannelCredentials = credentials.createInsecure()) {
    this.client = new AgentServiceClient(address, creds);
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    this.call = this.client.connect(metadata);
    this.call.on('data', (m: ControlMessage) => {
      this.received.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on('error', (err: ServiceError) => resolve({ code: err.code, details: err.details }));
      this.call.on('status', (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details }));
    });
  }

  send(body: NonNullable<AgentMessage['body']>): void {
    this.call.write({ body });
  }

  hello(lastConfigVersion = 0): void {
    this.send({
      $case: 'hello',
      value: {
        version: 'test-agent/1',
        labels: ['reported-only'],
        addresses: [{ protocol: 'postgres', address: '10.0.0.5:15432' }],
        lastConfigVersion,
        hostname: 'agent-host',
      },
    });
  }

  /** The first message of this kind at or after position `from` of `received`, waiting for it. */
  async next<C extends Case>(
    kind: C,
    { from = 0, timeoutMs = 15_000 } = {},
  ): Promise<{ value: ValueOf<C>; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex((m, i) => i >= from && m.body?.$case === kind);
      if (index >= 0) return { value: this.received[index]!.body!.value as ValueOf<C>, index };
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${kind} within ${timeoutMs} ms; got ${this.received.map((m) => m.body?.$case).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Half-closes: the agent sends nothing more but still reads. */
  end(): void {
    this.call.end();
  }

  close(): void {
    this.call.end();
    this.client.close();
  }
}

export async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}
