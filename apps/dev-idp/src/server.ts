import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadOrCreateKeys } from './keys.js';
import { createLoginHandler } from './login.js';
import { createProvider } from './provider.js';
import { Realm } from './realm.js';
import { createUserinfoHandler } from './userinfo.js';

export interface DevIdpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Base URL clients use; defaults to http://host:boundPort. */
  publicUrl?: string;
  realmFile: string;
  dataDir: string;
  /** Overrides every access token lifetime (seconds). */
  accessTokenTtl?: number;
}

export interface DevIdp {
  /** http://host:port/realms/<realm>, the issuer. */
  issuer: string;
  /** The address actually bound, e.g. http://127.0.0.1:41234. */
  url: string;
  close(): Promise<void>;
}

/** Serves one realm file with Keycloak's URL layout: everything lives under /realms/<realm>. */
export async function startDevIdp(opts: DevIdpOptions): Promise<DevIdp> {
  const realm = await Realm.load(opts.realmFile);
  const keys = await loadOrCreateKeys(opts.dataDir);
  const prefix = `/realms/${realm.name}`;
  const loginPath = `${prefix}/login-actions`;

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const issuer = `${(opts.publicUrl ?? url).replace(/\/+$/, '')}${prefix}`;

  const provider = createProvider({ issuer, realm, keys, accessTokenTtl: opts.accessTokenTtl, loginPath });
  const providerCallback = provider.callback();
  const login = createLoginHandler(provider, realm);
  const userinfo = createUserinfoHandler({ issuer, realm, keys });
  const userinfoPath = `${prefix}/protocol/openid-connect/userinfo`;

  handle = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith(`${loginPath}/`)) {
      login(req, res).catch((err: unknown) => fail(res, err));
    } else if (path === userinfoPath) {
      userinfo(req, res).catch((err: unknown) => fail(res, err));
    } else if (path === prefix || path.startsWith(`${prefix}/`)) {
      // oidc-provider finds its mount path the way Express leaves it: originalUrl minus url.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = req.url!.slice(prefix.length) || '/';
      providerCallback(req, res);
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'not_found', realm: prefix }));
    }
  };

  return {
    issuer,
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function fail(res: ServerResponse, err: unknown): void {
  // The message only: errors here never carry credentials, but request bodies might.
  console.error(`dev-idp: request failed: ${(err as Error).message}`);
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
  res.end('internal error');
}
