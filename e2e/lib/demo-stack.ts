// The stack most end-to-end tests stand on: a dev IdP, a control plane with its own store, the
// demo database behind a `demo-pg` connection granted to some groups, and one or more agents
// serving it. One place, so every test sets it up (and tears it down) the same way.
import assert from 'node:assert/strict';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { demoPassword, seedDemoDatabase } from '../../deploy/local/demo-data.mjs';
import { PrismaClient } from '../generated/demo-client/client.js';
import { eventually } from './process.js';
import {
  adminDatabaseUrl,
  api,
  createDatabase,
  databaseUrl,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  userToken,
  type Agent,
  type ControlPlane,
  type Idp,
} from './stack.js';

export interface DemoStack {
  idp: Idp;
  cp: ControlPlane;
  /** The control plane's own database. */
  store: { name: string; url: string };
  /** The demo database's name (seeded customers, read by `portcullis_demo_reader`). */
  demoDb: string;
  /** An admin's access token. */
  alice: string;
  /** The agents, in the order of `agents`; `agent` is the first. */
  agents: Agent[];
  agent: Agent;
  stop(): Promise<void>;
}

export async function startDemoStack(options: {
  /** Names the databases of this test (`e2e_<name>_store_...`, `e2e_<name>_demo_<pid>`). */
  name: string;
  customers: number;
  /** Groups granted `demo-pg`. */
  groups: string[];
  /** Agent names; one agent by default. */
  agents?: string[];
  /** Runs against the seeded demo database before the control plane starts (extra tables, grants). */
  prepare?: (demoUrl: string, demoDb: string) => Promise<void>;
}): Promise<DemoStack> {
  // Undone in reverse order by stop(), or at once when setting up fails half-way.
  const undo: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const idp = await startIdp();
    undo.push(() => idp.stop());
    const store = await createDatabase(`e2e_${options.name}_store`);
    undo.push(() => store.drop());
    const demoDb = `e2e_${options.name}_demo_${process.pid}`;
    undo.push(async () => {
      const admin = new pg.Client({ connectionString: adminDatabaseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${demoDb} WITH (FORCE)`);
      await admin.end();
    });
    await seedDemoDatabase({ adminUrl: adminDatabaseUrl, database: demoDb, customers: options.customers });
    await options.prepare?.(databaseUrl(demoDb), demoDb);
    const cp = await startControlPlane({ idp, databaseUrl: store.url });
    undo.push(() => cp.stop());
    const alice = await userToken(idp, 'alice');
    const created = await api(cp, alice, 'POST', '/api/v1/connections', {
      name: 'demo-pg',
      kind: 'postgres',
      target: `postgresql://portcullis_demo_reader@127.0.0.1:5432/${demoDb}`,
      credential: { secretRef: 'env:DEMO_PG_PASSWORD' },
    });
    assert.equal(created.status, 201, created.text);
    for (const group of options.groups) {
      const grant = await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'demo-pg', group, reason: 'e2e' });
      assert.equal(grant.status, 201, grant.text);
    }
    const agents = await Promise.all(
      (options.agents ?? [`${options.name}-agent`]).map(async (name) => {
        const reg = await registerAgent(cp, alice, name);
        const agent = await startAgent({ controlPlane: cp, token: reg.token, env: { DEMO_PG_PASSWORD: demoPassword } });
        undo.push(() => agent.stop());
        return agent;
      }),
    );
    for (const agent of agents) {
      await eventually(async () => (await agent.status()).connections.includes('demo-pg'), {
        what: 'demo-pg on the agent',
      });
    }
    return { idp, cp, store, demoDb, alice, agents, agent: agents[0]!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A node-postgres client of a connection through an agent, with an access token as the password. */
export function agentClient(
  agent: Agent,
  token: string,
  user: string,
  config: pg.ClientConfig & { database?: string } = {},
): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: agent.pgPort,
    database: 'demo-pg',
    user,
    password: token,
    ...config,
  });
}

/** Prisma Client of `demo-pg` through an agent (driver adapter: node-postgres underneath). */
export function agentPrisma(agent: Agent, token: string, user: string): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ host: '127.0.0.1', port: agent.pgPort, database: 'demo-pg', user, password: token }),
  });
}
