import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { api, freePort, startControlPlane, testDatabase, type RunningControlPlane } from './support.js';

// The same check against the real development IdP (apps/dev-idp, Keycloak's URL layout and
// token shape), with users from deploy/keycloak/realm-portcullis.json.
const IDP_MAIN = fileURLToPath(new URL('../../dev-idp/dist/main.js', import.meta.url));
const skip = existsSync(IDP_MAIN) ? false : 'apps/dev-idp is not built (pnpm --filter @portcullis/dev-idp run build)';

let idp: ChildProcess;
let idpUrl: string;
let dataDir: string;
let db: Awaited<ReturnType<typeof testDatabase>>;
let cp: RunningControlPlane;

before(async () => {
  if (skip) return;
  const port = await freePort();
  idpUrl = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(path.join(tmpdir(), 'cp-idp-'));
  idp = spawn(process.execPath, [IDP_MAIN], {
    env: { PATH: process.env.PATH, IDP_PORT: String(port), IDP_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  idp.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  idp.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200 && !out.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /listening on/, out);
  db = await testDatabase();
  cp = await startControlPlane({ DATABASE_URL: db.url, KEYCLOAK_URL: idpUrl });
});

after(async () => {
  await cp?.stop();
  idp?.kill();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function passwordToken(user: string): Promise<string> {
  const res = await fetch(`${idpUrl}/realms/portcullis/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'portcullis-cli', username: user, password: user }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

test('dev IdP tokens: alice (admin) writes, carol (no role) is refused, erin (auditor) reads audit', { skip }, async () => {
  const alice = await passwordToken('alice');
  const created = await api(cp.url, 'POST', '/api/v1/connections', {
    token: alice,
    body: { name: 'docs', kind: 'http', target: 'https://docs.internal' },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: await passwordToken('carol') })).status, 403);
  const audit = await api(cp.url, 'GET', '/api/v1/audit', { token: await passwordToken('erin') });
  assert.equal(audit.status, 200);
  assert.equal(audit.body.items.find((e: { action: string }) => e.action === 'connection.create')?.actor, 'alice');
});
