import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import Keycloak from 'keycloak-connect';
import { startDevIdp, type DevIdp } from './server.js';

const realmFile = fileURLToPath(new URL('../../../deploy/keycloak/realm-portcullis.json', import.meta.url));
const ALICE_ID = '6b3f7a52-1c0e-4d8a-9f21-a11ce0000001';
const CAROL_ID = '6b3f7a52-1c0e-4d8a-9f21-ca2010000003';
const CI_BOT_ACCOUNT_ID = '6b3f7a52-1c0e-4d8a-9f21-c1b070000006';

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
}

async function tokenRequest(idp: DevIdp, form: Record<string, string>, basic?: [string, string]) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
  const res = await fetch(`${idp.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as TokenResponse };
}

const clientCredentials = (idp: DevIdp, secret = 'ci-bot-secret') =>
  tokenRequest(idp, { grant_type: 'client_credentials' }, ['ci-bot', secret]);

const password = (idp: DevIdp, username: string, pass: string) =>
  tokenRequest(idp, { grant_type: 'password', client_id: 'portcullis-cli', username, password: pass });

async function verify(idp: DevIdp, token: string): Promise<JWTPayload & Record<string, unknown>> {
  const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/protocol/openid-connect/certs`));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: idp.issuer,
    audience: 'portcullis',
    algorithms: ['RS256'],
  });
  return payload as JWTPayload & Record<string, unknown>;
}

/** Just enough of a browser: keeps cookies, does not follow redirects. */
class Browser {
  private readonly cookies = new Map<string, string>();

  get(url: string | URL) {
    return this.request(url, { method: 'GET' });
  }

  post(url: string | URL, form: Record<string, string>) {
    return this.request(url, { method: 'POST', body: new URLSearchParams(form) });
  }

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

describe('dev-idp', () => {
  let dataDir: string;
  let idp: DevIdp;
  const start = (accessTokenTtl?: number, port = 0) =>
    startDevIdp({ host: '127.0.0.1', port, realmFile, dataDir, accessTokenTtl });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dev-idp-test-'));
    idp = await start();
  });
  after(async () => {
    await idp.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves discovery under the realm prefix with Keycloak paths', async () => {
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+\/realms\/portcullis$/);
    assert.equal(doc.issuer, idp.issuer);
    assert.equal(doc.token_endpoint, `${idp.issuer}/protocol/openid-connect/token`);
    assert.equal(doc.jwks_uri, `${idp.issuer}/protocol/openid-connect/certs`);
    assert.equal(doc.authorization_endpoint, `${idp.issuer}/protocol/openid-connect/auth`);
    assert.equal(doc.device_authorization_endpoint, `${idp.issuer}/protocol/openid-connect/auth/device`);
    assert.equal(doc.introspection_endpoint, `${idp.issuer}/protocol/openid-connect/token/introspect`);
    assert.ok((doc.grant_types_supported as string[]).includes('client_credentials'));
    assert.ok((doc.grant_types_supported as string[]).includes('password'));
  });

  it('issues Keycloak-shaped client credentials tokens that verify against the served JWKS', async () => {
    const { status, body } = await clientCredentials(idp);
    assert.equal(status, 200);
    assert.equal(body.refresh_token, undefined);
    const claims = await verify(idp, body.access_token!);
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.sub, CI_BOT_ACCOUNT_ID);
    assert.equal(claims.aud, 'portcullis');
    assert.equal(claims.typ, 'Bearer');
    assert.equal(claims.azp, 'ci-bot');
    assert.equal(claims.preferred_username, 'service-account-ci-bot');
    assert.deepEqual(claims.groups, ['ci']);
    assert.deepEqual(claims.realm_access, { roles: [] });
    assert.equal(claims.exp! - claims.iat!, 300, 'the realm accessTokenLifespan');
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const { status, body } = await clientCredentials(idp, 'not-the-secret');
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
    assert.equal(body.access_token, undefined);
  });

  it('grants user tokens by password to clients with direct access grants', async () => {
    const { status, body } = await password(idp, 'carol', 'carol');
    assert.equal(status, 200);
    assert.ok(body.refresh_token, 'user flows get a refresh token');
    const claims = await verify(idp, body.access_token!);
    assert.equal(claims.sub, CAROL_ID);
    assert.equal(claims.azp, 'portcullis-cli');
    assert.equal(claims.preferred_username, 'carol');
    assert.deepEqual(claims.groups, ['analysts']);
    assert.ok(!(claims.realm_access as { roles: string[] }).roles.includes('admin'));
    assert.equal(claims.email, 'carol@portcullis.test');
    assert.equal(claims.name, 'Carol Analyst');

    const userinfo = await fetch(`${idp.issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    assert.equal(userinfo.status, 200);
    const profile = (await userinfo.json()) as Record<string, unknown>;
    assert.equal(profile.sub, CAROL_ID);
    assert.equal(profile.preferred_username, 'carol');
    const anonymous = await fetch(`${idp.issuer}/protocol/openid-connect/userinfo`);
    assert.equal(anonymous.status, 401);

    const alice = await password(idp, 'alice', 'alice');
    const aliceClaims = await verify(idp, alice.body.access_token!);
    assert.equal(aliceClaims.sub, ALICE_ID);
    assert.ok((aliceClaims.realm_access as { roles: string[] }).roles.includes('admin'));
  });

  it('refreshes a password grant into a new access token for the same user', async () => {
    const first = await password(idp, 'carol', 'carol');
    const { status, body } = await tokenRequest(idp, {
      grant_type: 'refresh_token',
      client_id: 'portcullis-cli',
      refresh_token: first.body.refresh_token!,
    });
    assert.equal(status, 200);
    const claims = await verify(idp, body.access_token!);
    assert.equal(claims.sub, CAROL_ID);
    assert.deepEqual(claims.groups, ['analysts']);
  });

  it('refuses a wrong password, and the password grant for clients without direct access grants', async () => {
    const wrong = await password(idp, 'carol', 'alice');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const serviceAccount = await password(idp, 'service-account-ci-bot', '');
    assert.equal(serviceAccount.status, 400);
    const notAllowed = await tokenRequest(idp, { grant_type: 'password', username: 'carol', password: 'carol' }, [
      'ci-bot',
      'ci-bot-secret',
    ]);
    assert.equal(notAllowed.status, 400);
    assert.equal(notAllowed.body.access_token, undefined);
  });

  it('signs a user in through the login page for the authorization code flow with PKCE', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      client_id: 'portcullis-console',
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: 'http://127.0.0.1:5173/callback',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const browser = new Browser();
    let res = await browser.get(`${idp.issuer}/protocol/openid-connect/auth?${params}`);
    assert.equal(res.status, 303);
    const loginUrl = new URL(res.headers.get('location')!, idp.issuer);
    assert.match(loginUrl.pathname, /^\/realms\/portcullis\/login-actions\//);
    res = await browser.get(loginUrl);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /name="password"/);

    res = await browser.post(loginUrl, { username: 'bob', password: 'wrong' });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /Invalid username or password/);

    res = await browser.post(loginUrl, { username: 'bob', password: 'bob' });
    while (res.status === 303 && !res.headers.get('location')!.startsWith('http://127.0.0.1:5173/')) {
      res = await browser.get(new URL(res.headers.get('location')!, idp.issuer));
    }
    const callback = new URL(res.headers.get('location')!);
    assert.equal(callback.pathname, '/callback');
    const code = callback.searchParams.get('code');
    assert.ok(code, `no code in ${callback.search}`);

    const { status, body } = await tokenRequest(idp, {
      grant_type: 'authorization_code',
      client_id: 'portcullis-console',
      code,
      redirect_uri: 'http://127.0.0.1:5173/callback',
      code_verifier: verifier,
    });
    assert.equal(status, 200);
    assert.ok(body.refresh_token);
    const claims = await verify(idp, body.access_token!);
    assert.equal(claims.preferred_username, 'bob');
    assert.equal(claims.azp, 'portcullis-console');
    assert.ok((claims.realm_access as { roles: string[] }).roles.includes('steward'));
  });

  it('completes the device authorization grant after the user signs in', async () => {
    const start = await fetch(`${idp.issuer}/protocol/openid-connect/auth/device`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'portcullis-cli', scope: 'openid' }),
    });
    assert.equal(start.status, 200);
    const device = (await start.json()) as { device_code: string; user_code: string; verification_uri: string };
    assert.equal(device.verification_uri, `${idp.issuer}/device`);
    const poll = () =>
      tokenRequest(idp, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: 'portcullis-cli',
        device_code: device.device_code,
      });
    assert.equal((await poll()).body.error, 'authorization_pending');

    const browser = new Browser();
    const xsrf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    let res = await browser.get(device.verification_uri);
    res = await browser.post(device.verification_uri, { xsrf: xsrf(await res.text()), user_code: device.user_code });
    assert.equal(res.status, 200);
    res = await browser.post(device.verification_uri, {
      xsrf: xsrf(await res.text()),
      user_code: device.user_code,
      confirm: 'yes',
    });
    const loginUrl = new URL(res.headers.get('location')!, idp.issuer);
    res = await browser.post(loginUrl, { username: 'dave', password: 'dave' });
    while (res.status === 303) res = await browser.get(new URL(res.headers.get('location')!, idp.issuer));
    assert.match(await res.text(), /Device connected/);

    const { status, body } = await poll();
    assert.equal(status, 200);
    assert.ok(body.refresh_token);
    const claims = await verify(idp, body.access_token!);
    assert.equal(claims.preferred_username, 'dave');
    assert.deepEqual(claims.groups, ['contractors']);
  });

  it('lets keycloak-connect (bearer-only) accept a real token and reject a tampered one', async () => {
    const keycloak = new Keycloak(
      {},
      {
        realm: 'portcullis',
        'auth-server-url': idp.issuer.replace(/\/realms\/portcullis$/, ''),
        resource: 'portcullis',
        'bearer-only': true,
        'ssl-required': 'none',
        'confidential-port': 0,
      },
    );
    const { body } = await password(idp, 'alice', 'alice');
    const grant = await keycloak.grantManager.createGrant(JSON.stringify({ access_token: body.access_token }));
    assert.ok(grant.access_token?.hasRealmRole('admin'));

    const [header, payload, signature] = body.access_token!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims.realm_access.roles.push('steward');
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await assert.rejects(keycloak.grantManager.createGrant(JSON.stringify({ access_token: tampered })), /signature/);
  });

  it('honours IDP_ACCESS_TOKEN_TTL and keeps its signing keys across restarts', async () => {
    const before = await clientCredentials(idp);
    await idp.close();
    // Same port, so the same issuer: only the keys decide whether the old token still verifies.
    idp = await start(1, Number(new URL(idp.url).port));
    const { body } = await clientCredentials(idp);
    assert.equal(body.expires_in, 1);
    const claims = decodeJwt(body.access_token!);
    assert.equal(claims.exp! - claims.iat!, 1);
    // Issued by the previous process, still valid against the restarted one's JWKS.
    const old = await verify(idp, before.body.access_token!);
    assert.equal(old.azp, 'ci-bot');
  });
});
