import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import pg from 'pg';

export const PG_SERVER = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A database of its own for one test file, dropped by `drop()`. */
export async function testDatabase(): Promise<{ name: string; url: string; query: (sql: string, values?: unknown[]) => Promise<pg.QueryResult>; drop: () => Promise<void> }> {
  const name = `cp_test_${randomBytes(6).toString('hex')}`;
  const url = `${PG_SERVER}/${name}`;
  let client: pg.Client | undefined;
  return {
    name,
    url,
    async query(sql, values) {
      if (!client) {
        client = new pg.Client({ connectionString: url });
        await client.connect();
      }
      return client.query(sql, values);
    },
    async drop() {
      await client?.end();
      const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A stand-in for Keycloak / the dev IdP: serves the realm's JWKS at Keycloak's path and mints
 * RS256 access tokens shaped like Keycloak's (typ Bearer, realm_access.roles, groups).
 */
export interface TestIssuer {
  keycloakUrl: string;
  /** `expiresIn: null` leaves out the exp claim. */
  token(claims: { sub?: string; username?: string; roles?: string[]; groups?: string[]; aud?: string; iss?: string; expiresIn?: string | null }): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(realm = 'portcullis'): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const server: Server = createServer((req, res) => {
    if (req.url === `/realms/${realm}/protocol/openid-connect/certs`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const keycloakUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    keycloakUrl,
    token: (c) => sign(privateKey, kid, `${keycloakUrl}/realms/${realm}`, c),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function sign(key: CryptoKey, kid: string, issuer: string, c: Parameters<TestIssuer['token']>[0]): Promise<string> {
  const sub = c.sub ?? randomUUID();
  const jwt = new SignJWT({
    typ: 'Bearer',
    azp: 'portcullis-console',
    preferred_username: c.username ?? `user-${sub.slice(0, 8)}`,
    realm_access: { roles: c.roles ?? [] },
    groups: c.groups ?? [],
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(c.iss ?? issuer)
    .setAudience(c.aud ?? 'portcullis')
    .setSubject(sub)
    .setIssuedAt();
  if (c.expiresIn !== null) jwt.setExpirationTime(c.expiresIn ?? '5m');
  return jwt.sign(key);
}

export interface RunningControlPlane {
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<number | null>;
}

/** Spawns the built control plane (dist/) the way the `start` script does, on free ports. */
export async function startControlPlane(env: Record<string, string>): Promise<RunningControlPlane> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--experimental-wasm-modules', '--no-warnings', 'dist/main.js'], {
    cwd: APP_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(await freePort()),
      GRPC_INSECURE: 'true',
      REDIS_URL,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = `control plane listening on http://127.0.0.1:${port}`;
  await Promise.race([
    new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes(ready)) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
      exited.then(() => {
        clearInterval(timer);
        reject(new Error(`control plane exited before it was ready:\n${output}`));
      });
    }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`control plane not ready in 60 s:\n${output}`)), 60_000).unref()),
  ]);
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function api(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}
