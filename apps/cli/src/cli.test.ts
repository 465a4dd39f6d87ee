import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { closedPort, portcullis as run, startDevIdp } from './test-support.js';

/** Runs the real `portcullis` command with its own config folder. */
const portcullis = (args: string[], env: Record<string, string> = {}) => run(home, args, env);

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'portcullis-cli-test-'));
});
after(() => rm(home, { recursive: true, force: true }));

describe('portcullis token', () => {
  let idp: { issuer: string; process: ChildProcess };

  before(async () => {
    idp = await startDevIdp(join(home, 'idp'));
  });
  after(() => {
    idp.process.kill();
  });

  it('prints a client credentials token from flags', async () => {
    const run = await portcullis([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      'ci-bot',
      '--client-secret',
      'ci-bot-secret',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const claims = decodeJwt(run.stdout.trim());
    assert.equal(claims.azp, 'ci-bot');
    assert.equal(claims.iss, idp.issuer);
    assert.deepEqual(claims.groups, ['ci']);
  });

  it('takes client credentials and the issuer from the environment, and prints JSON with --json', async () => {
    const run = await portcullis(['token', '--json'], {
      PORTCULLIS_ISSUER: idp.issuer,
      PORTCULLIS_CLIENT_ID: 'ci-bot',
      PORTCULLIS_CLIENT_SECRET: 'ci-bot-secret',
    });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(out.token_type, 'Bearer');
    assert.equal(out.expires_in, 300);
    assert.equal(decodeJwt(out.access_token as string).azp, 'ci-bot');
  });

  it('prints a user token for --username/--password', async () => {
    const run = await portcullis([
      'token',
      '--issuer',
      idp.issuer,
      '--username',
      'carol',
      '--password',
      'carol',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(out.refresh_token, undefined, 'only the access token is printed');
    const claims = decodeJwt(out.access_token as string);
    assert.equal(claims.preferred_username, 'carol');
    assert.deepEqual(claims.groups, ['analysts']);
  });

  it('fails with one clear line and exit code 1 on a wrong secret, without echoing it', async () => {
    const run = await portcullis([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      'ci-bot',
      '--client-secret',
      'wrong-secret-123',
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^error: the identity provider refused client ci-bot: invalid_client/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.ok(!run.stderr.includes('wrong-secret-123'));
  });

  it('fails clearly on a wrong password', async () => {
    const run = await portcullis(['token', '--issuer', idp.issuer, '--username', 'carol', '--password', 'nope']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: the identity provider refused the sign-in of carol: invalid_grant/);
    assert.ok(!run.stderr.includes('nope'));
  });

  it('says so when the issuer cannot be reached', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}/realms/portcullis`;
    const run = await portcullis([
      'token',
      '--issuer',
      issuer,
      '--client-id',
      'ci-bot',
      '--client-secret',
      'ci-bot-secret',
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: cannot reach the identity provider at ${issuer}: connection refused\n`);
  });

  it('treats missing credentials and unknown commands as usage errors (exit code 2)', async () => {
    const none = await portcullis(['token', '--issuer', idp.issuer]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error: no credentials/);
    const half = await portcullis(['token', '--issuer', idp.issuer, '--client-id', 'ci-bot']);
    assert.equal(half.code, 2);
    const unknown = await portcullis(['tokn']);
    assert.equal(unknown.code, 2);
  });

  it('remembers the issuer with `config set`, in a file only the user can read', async () => {
    const set = await portcullis(['config', 'set', 'issuer', idp.issuer]);
    assert.equal(set.code, 0, set.stderr);
    const dir = join(home, '.config', 'portcullis');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'config.json'))).mode & 0o777, 0o600);
    const run = await portcullis(['token', '--client-id', 'ci-bot', '--client-secret', 'ci-bot-secret']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(decodeJwt(run.stdout.trim()).iss, idp.issuer);
    const bad = await portcullis(['config', 'set', 'issuer', 'not a url']);
    assert.equal(bad.code, 2);
    await portcullis(['config', 'unset', 'issuer']);
  });
});

describe('portcullis REST commands without a control plane', () => {
  it('says which control plane it cannot reach', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await portcullis(['agents', 'list', '--control-plane', url], { PORTCULLIS_TOKEN: 'x' });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: cannot reach the control plane at ${url}: connection refused\n`);
  });

  it('refuses an invalid connection before sending anything', async () => {
    const run = await portcullis(
      ['connections', 'create', 'orders', '--kind', 'postgres', '--target', 'postgres://app:hunter2@db:5432/orders'],
      { PORTCULLIS_TOKEN: 'x', PORTCULLIS_URL: `http://127.0.0.1:${await closedPort()}` },
    );
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'error: invalid connection: target: must not contain a password; use credential\n');
  });
});
