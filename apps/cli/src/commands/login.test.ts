// `portcullis login / whoami / logout` against real processes: the dev IdP (device flow, refresh)
// and a control plane (built dist) on PostgreSQL and Redis.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, startControlPlane, startIdp, type ControlPlane, type Idp } from '../../../../e2e/lib/stack.js';
import { eventually } from '../../../../e2e/lib/process.js';
import { closedPort, portcullis, startPortcullis } from '../test-support.js';

/** Just enough of a browser for the dev IdP's pages: keeps cookies, does not follow redirects. */
class Browser {
  private readonly cookies = new Map<string, string>();
  get = (url: string | URL) => this.request(url, { method: 'GET' });
  post = (url: string | URL, form: Record<string, string>) =>
    this.request(url, { method: 'POST', body: new URLSearchParams(form) });
  private async request(url: string | URL, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }
}

/** What a person does in the browser after `portcullis login` printed the code. */
async function approveDevice(
  issuer: string,
  verificationUri: string,
  userCode: string,
  username: string,
): Promise<void> {
  const browser = new Browser();
  const xsrf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
  let res = await browser.get(verificationUri);
  res = await browser.post(verificationUri, { xsrf: xsrf(await res.text()), user_code: userCode });
  res = await browser.post(verificationUri, { xsrf: xsrf(await res.text()), user_code: userCode, confirm: 'yes' });
  res = await browser.post(new URL(res.headers.get('location')!, issuer), { username, password: username });
  while (res.status === 303) res = await browser.get(new URL(res.headers.get('location')!, issuer));
  assert.match(await res.text(), /Device connected/);
}

describe('portcullis login, whoami and logout', () => {
  let home: string;
  let idp: Idp;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => portcullis(home, args, { ...env, ...extra });
  const ciBot = { PORTCULLIS_CLIENT_ID: 'ci-bot', PORTCULLIS_CLIENT_SECRET: 'ci-bot-secret' };
  const savedLogin = async () => JSON.parse(await readFile(join(home, '.config/portcullis/credentials.json'), 'utf8'));

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'portcullis-cli-lifecycle-'));
    idp = await startIdp();
    db = await createDatabase('cli_lifecycle');
    cp = await startControlPlane({ idp, databaseUrl: db.url, env: { AGENT_OFFLINE_AFTER_MS: '600000' } });
    env = { PORTCULLIS_URL: cp.url, PORTCULLIS_ISSUER: idp.issuer };
  });

  after(async () => {
    await cp?.stop();
    await db?.drop();
    await idp?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('login: a clear error and exit 1 when the IdP cannot be reached', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}/realms/portcullis`;
    const run = await cli(['login', '--issuer', issuer]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: cannot reach the identity provider at ${issuer}: connection refused\n`);
  });

  it('login: device flow, the refresh token kept in a file only the user can read', async () => {
    const login = startPortcullis(home, ['login'], env);
    const prompt = await eventually(
      () => /open (\S+) and enter the code[^]*|code: (\S+)/.test(login.stderr()) && login.stderr().includes('Waiting'),
      {
        timeoutMs: 15_000,
        what: 'the login prompt',
      },
    ).then(() => login.stderr());
    const userCode = /the code: (\S+)/.exec(prompt)![1]!;
    const verificationUri = /\(or open (\S+) and enter the code\)/.exec(prompt)![1]!;
    await approveDevice(idp.issuer, verificationUri, userCode, 'alice');
    const run = await login.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Logged in as alice/);

    const dir = join(home, '.config/portcullis');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'credentials.json'))).mode & 0o777, 0o600);
    const saved = await savedLogin();
    assert.equal(saved.issuer, idp.issuer);
    assert.equal(saved.username, 'alice');
    assert.ok(saved.refreshToken);
  });

  it('whoami uses the saved login, caches the access token and refreshes it near expiry', async () => {
    const first = await cli(['whoami', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const me = JSON.parse(first.stdout);
    assert.equal(me.username, 'alice');
    assert.deepEqual(me.roles, ['admin']);
    assert.ok(Date.parse(me.tokenExpiresAt) > Date.now());
    const cached = (await savedLogin()).accessToken;
    assert.equal((await cli(['whoami'])).code, 0);
    assert.equal((await savedLogin()).accessToken, cached, 'a token with time left is reused');

    // 10 s left: inside the 30 s margin, so the next command refreshes first.
    const saved = await savedLogin();
    await writeFile(
      join(home, '.config/portcullis/credentials.json'),
      JSON.stringify({ ...saved, accessTokenExpiresAt: new Date(Date.now() + 10_000).toISOString() }),
    );
    const human = await cli(['whoami']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Username: +alice/);
    const refreshed = await savedLogin();
    assert.notEqual(refreshed.accessToken, cached);
    assert.ok(Date.parse(refreshed.accessTokenExpiresAt) > Date.now() + 60_000);
  });

  it('explicit client credentials win over the saved login', async () => {
    const run = await cli(['whoami', '--json'], ciBot);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).groups, ['ci']);
  });

  it('logout revokes and forgets the login; commands then ask for one (exit 2)', async () => {
    const { refreshToken } = await savedLogin();
    const out = await cli(['logout']);
    assert.equal(out.code, 0);
    assert.equal(out.stderr, 'Logged out\n');
    await assert.rejects(stat(join(home, '.config/portcullis/credentials.json')));
    const reuse = await fetch(`${idp.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'portcullis-cli',
        refresh_token: refreshToken,
      }),
    });
    assert.equal(reuse.status, 400, 'the IdP no longer honours the refresh token');
    const run = await cli(['whoami']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /run `portcullis login`/);
  });
});
