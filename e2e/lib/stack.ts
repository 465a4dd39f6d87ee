import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually, freePort, repoRoot, TestProcess } from './process.js';

/** Where the tests find PostgreSQL and Redis; CI and the dev machines use the defaults. */
export const adminDatabaseUrl = process.env.E2E_ADMIN_DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh database for one test file, dropped by `drop()`. */
export async function createDatabase(prefix = 'e2e'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    name,
    url: databaseUrl(name),
    async drop() {
      const c = new pg.Client({ connectionString: adminDatabaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function tempDir(prefix = 'portcullis-e2e-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// dev IdP

export interface Idp {
  url: string;
  issuer: string;
  /** Where this instance answers (differs from the issuer's host for a twin). */
  endpoint: string;
  dataDir: string;
  process: TestProcess;
  stop(): Promise<void>;
}

/**
 * Starts a dev IdP. With `twinOf`, a second instance that signs with the same keys and names the
 * same issuer: its tokens are indistinguishable from the first's except for their lifetime.
 */
export async function startIdp(options: { tokenTtlSeconds?: number; twinOf?: Idp; consoleOrigin?: string } = {}): Promise<Idp> {
  const port = await freePort();
  const data = options.twinOf ? undefined : tempDir('portcullis-idp-');
  const dataDir = options.twinOf?.dataDir ?? data!.path;
  const env: NodeJS.ProcessEnv = {
    IDP_HOST: '127.0.0.1',
    IDP_PORT: String(port),
    IDP_DATA_DIR: dataDir,
  };
  if (options.consoleOrigin) env.IDP_REALM_FILE = realmWithConsoleAt(options.consoleOrigin, dataDir);
  if (options.twinOf) env.IDP_PUBLIC_URL = options.twinOf.url;
  if (options.tokenTtlSeconds !== undefined) env.IDP_ACCESS_TOKEN_TTL = String(options.tokenTtlSeconds);
  const proc = new TestProcess('dev-idp', process.execPath, [join(repoRoot, 'apps/dev-idp/dist/main.js')], env, /listening on/);
  await proc.start();
  const url = options.twinOf?.url ?? `http://127.0.0.1:${port}`;
  return {
    url,
    issuer: `${url}/realms/portcullis`,
    endpoint: `http://127.0.0.1:${port}/realms/portcullis`,
    dataDir,
    process: proc,
    async stop() {
      await proc.stop();
      data?.remove();
    },
  };
}

/**
 * The dev realm, with `origin` also allowed as the console's redirect and web origin: a test's
 * control plane serves the console on a random port, which the shared realm (`:8080`, `:5173`)
 * rightly refuses.
 */
function realmWithConsoleAt(origin: string, dir: string): string {
  const realm = JSON.parse(readFileSync(join(repoRoot, 'deploy/keycloak/realm-portcullis.json'), 'utf8'));
  const client = realm.clients.find((c: { clientId: string }) => c.clientId === 'portcullis-console');
  client.redirectUris.push(`${origin}/*`);
  client.webOrigins.push(origin);
  const path = join(dir, 'realm-with-test-console.json');
  writeFileSync(path, JSON.stringify(realm));
  return path;
}

async function tokenRequest(idp: Idp, form: Record<string, string>): Promise<string> {
  const res = await fetch(`${idp.endpoint}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error} ${body.error_description ?? ''}`);
  return body.access_token;
}

/** A person's access token (password grant on the dev realm's CLI client; password = username). */
export function userToken(idp: Idp, username: string, password = username): Promise<string> {
  return tokenRequest(idp, { grant_type: 'password', client_id: 'portcullis-cli', username, password, scope: 'openid' });
}

/** A service account's access token (client credentials). */
export function clientToken(idp: Idp, clientId = 'ci-bot', clientSecret = 'ci-bot-secret'): Promise<string> {
  return tokenRequest(idp, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
}

// ---------------------------------------------------------------------------------------------
// control plane

export interface ControlPlane {
  url: string;
  grpcAddress: string;
  process: TestProcess;
  /** Starts the same configuration again (after stop or kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export const testSecretKey = randomBytes(32).toString('base64');

export async function startControlPlane(options: {
  idp: Idp;
  databaseUrl: string;
  port?: number;
  grpcPort?: number;
  /** Serve the built console (apps/console/dist) at `/`. */
  console?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<ControlPlane> {
  const port = options.port ?? (await freePort());
  const grpcPort = options.grpcPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    GRPC_INSECURE: 'true',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: redisUrl,
    KEYCLOAK_URL: options.idp.url,
    KEYCLOAK_REALM: 'portcullis',
    PORTCULLIS_SECRET_KEY: testSecretKey,
    HEARTBEAT_INTERVAL_MS: '500',
    AGENT_OFFLINE_AFTER_MS: '2000',
    ...(options.console ? { CONSOLE_DIR: join(repoRoot, 'apps/console/dist') } : {}),
    ...options.env,
  };
  const args = ['--experimental-wasm-modules', '--no-warnings', join(repoRoot, 'apps/control-plane/dist/main.js')];
  let proc = new TestProcess('control-plane', process.execPath, args, env, /listening on http/);
  await proc.start();
  const cp: ControlPlane = {
    url: `http://127.0.0.1:${port}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    process: proc,
    async restart() {
      const previous = proc.output;
      proc = new TestProcess('control-plane', process.execPath, args, env, /listening on http/);
      proc.output = previous;
      cp.process = proc;
      await proc.start();
    },
    stop: () => proc.stop(),
    kill: () => proc.kill(),
  };
  return cp;
}

/** A REST call as a user would make it; returns status and parsed body. */
export async function api<T = any>(
  cp: ControlPlane,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${cp.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T, text };
}

// ---------------------------------------------------------------------------------------------
// agent

export interface Agent {
  pgPort: number;
  /** The HTTP listener (`/c/<connection>/...`). */
  httpPort: number;
  statusUrl: string;
  dataDir: string;
  process: TestProcess;
  status(): Promise<AgentStatus>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface AgentStatus {
  agentId: string | null;
  connected: boolean;
  configVersion: number | string | null;
  connections: string[];
  labels: string[];
  /** Recording events on disk not yet acknowledged by the control plane. */
  spool: { bytes: number; backlog: number };
}

export async function startAgent(options: {
  controlPlane: { grpcAddress: string };
  token: string;
  labels?: string[];
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Wait until connected to the control plane (false when testing offline starts). */
  waitConnected?: boolean;
}): Promise<Agent> {
  const [pgPort, httpPort, statusPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = options.dataDir ?? tempDir('portcullis-agent-').path;
  const env: NodeJS.ProcessEnv = {
    PORTCULLIS_CONTROL_PLANE: options.controlPlane.grpcAddress,
    PORTCULLIS_CONTROL_PLANE_INSECURE: 'true',
    PORTCULLIS_AGENT_TOKEN: options.token,
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_LABELS: (options.labels ?? ['default']).join(','),
    PORTCULLIS_PG_LISTEN: `127.0.0.1:${pgPort}`,
    PORTCULLIS_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    PORTCULLIS_STATUS_LISTEN: `127.0.0.1:${statusPort}`,
    ...options.env,
  };
  const args = [join(repoRoot, 'apps/agent/dist/main.js')];
  let proc = new TestProcess('agent', process.execPath, args, env, /listening/);
  const statusUrl = `http://127.0.0.1:${statusPort}`;
  const status = async (): Promise<AgentStatus> => (await (await fetch(`${statusUrl}/status`)).json()) as AgentStatus;
  const waitReady = async (): Promise<void> => {
    await proc.start();
    if (options.waitConnected !== false) {
      await eventually(async () => (await status()).connected, { timeoutMs: 10_000, what: 'agent connected' });
    }
  };
  await waitReady();
  const agent: Agent = {
    pgPort,
    httpPort,
    statusUrl,
    dataDir,
    process: proc,
    status,
    async restart() {
      const previous = proc.output;
      proc = new TestProcess('agent', process.execPath, args, env, /listening/);
      proc.output = previous;
      agent.process = proc;
      await waitReady();
    },
    stop: () => proc.stop(),
    kill: () => proc.kill(),
  };
  return agent;
}

/** Registers an agent over REST as an admin and returns its id and one-time token. */
export async function registerAgent(cp: ControlPlane, adminToken: string, name: string, labels = ['default']): Promise<{ id: string; token: string }> {
  const res = await api(cp, adminToken, 'POST', '/api/v1/agents', { name, labels });
  if (res.status !== 201) throw new Error(`register agent: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.token };
}
