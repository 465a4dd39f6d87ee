// Grants, identities, `env` and `run` against real processes: the dev IdP (password grant, client
// credentials), a control plane (built dist) on PostgreSQL and Redis, and TCP listeners standing
// in for agent addresses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createDatabase, startControlPlane, startIdp, type ControlPlane, type Idp } from '../../../e2e/lib/stack.js';
import { eventually } from '../../../e2e/lib/process.js';
import { closedPort, portcullis } from './test-support.js';

function exportsOf(stdout: string): Record<string, string> {
  // Evaluated by a real shell, so the quoting is checked too.
  const script = `${stdout}\nnode -e 'process.stdout.write(JSON.stringify(process.env))'`;
  const env = JSON.parse(execFileSync('sh', ['-c', script], { env: { PATH: process.env.PATH } }).toString()) as Record<
    string,
    string
  >;
  return Object.fromEntries(Object.entries(env).filter(([k]) => /^PG|^DEMO_LLM_/.test(k)));
}

describe('portcullis grants, identities, env and run', () => {
  let home: string;
  let idp: Idp;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let agentListener: Server;
  let agentPort: number;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => portcullis(home, args, { ...env, ...extra });
  const asAlice = ['--username', 'alice', '--password', 'alice'];
  const ciBot = { PORTCULLIS_CLIENT_ID: 'ci-bot', PORTCULLIS_CLIENT_SECRET: 'ci-bot-secret' };
  const sql = (statement: string) =>
    execFileSync('psql', [db.url, '-v', 'ON_ERROR_STOP=1', '-qAtc', statement]).toString();

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'portcullis-cli-lifecycle-'));
    idp = await startIdp();
    db = await createDatabase('cli_lifecycle');
    cp = await startControlPlane({ idp, databaseUrl: db.url, env: { AGENT_OFFLINE_AFTER_MS: '600000' } });
    env = { PORTCULLIS_URL: cp.url, PORTCULLIS_ISSUER: idp.issuer };
    agentListener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => agentListener.listen(0, '127.0.0.1', resolve));
    agentPort = (agentListener.address() as AddressInfo).port;
  });

  after(async () => {
    agentListener?.close();
    await cp?.stop();
    await db?.drop();
    await idp?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('grants create with --expires-in and a reason; env and run pick the agent that answers', async () => {
    assert.equal(
      (
        await cli([
          ...asAlice,
          'connections',
          'create',
          'demo-pg',
          '--kind',
          'postgres',
          '--target',
          'postgres://db.internal:5432/demo',
          '--label',
          'net-a',
        ])
      ).code,
      0,
    );
    assert.equal(
      (
        await cli([
          ...asAlice,
          'connections',
          'create',
          'demo-llm',
          '--kind',
          'http',
          '--target',
          'http://llm.internal',
          '--label',
          'net-a',
        ])
      ).code,
      0,
    );
    const grant = await cli([
      ...asAlice,
      'grants',
      'create',
      '--connection',
      'demo-pg',
      '--group',
      'ci',
      '--expires-in',
      '1h',
      '--reason',
      'nightly export',
      '--json',
    ]);
    assert.equal(grant.code, 0, grant.stderr);
    const created = JSON.parse(grant.stdout);
    assert.equal(created.reason, 'nightly export');
    assert.ok(Math.abs(Date.parse(created.expiresAt) - (Date.now() + 3_600_000)) < 60_000);
    assert.equal((await cli([...asAlice, 'grants', 'create', '--connection', 'demo-llm', '--group', 'ci'])).code, 0);
    assert.equal(
      (await cli([...asAlice, 'grants', 'create', '--connection', 'demo-pg', '--group', 'x', '--expires-in', '1 week']))
        .code,
      2,
    );

    const dead = await closedPort();
    sql(`INSERT INTO agents (id, name, token_hash, labels, addresses, online, last_seen_at, updated_at) VALUES
      (gen_random_uuid(), 'agent-near', 'x', '{net-a}', '[{"protocol":"postgres","address":"127.0.0.1:${agentPort}"},{"protocol":"http","address":"127.0.0.1:${agentPort}"}]', true, now(), now()),
      (gen_random_uuid(), 'agent-down', 'x', '{net-a}', '[{"protocol":"postgres","address":"127.0.0.1:${dead}"}]', true, now(), now())`);

    // Client credentials from the environment win over the saved login of alice.
    const pg = await cli(['env', 'demo-pg'], ciBot);
    assert.equal(pg.code, 0, pg.stderr);
    assert.match(pg.stderr, /through agent agent-near/);
    const vars = exportsOf(pg.stdout);
    assert.deepEqual(
      { ...vars, PGPASSWORD: '<token>' },
      {
        PGHOST: '127.0.0.1',
        PGPORT: String(agentPort),
        PGDATABASE: 'demo-pg',
        PGUSER: 'ci-bot',
        PGPASSWORD: '<token>',
        PGSSLMODE: 'prefer',
      },
    );
    assert.equal(decodeJwt(vars.PGPASSWORD!).azp, 'ci-bot');

    const http = await cli(['env', 'demo-llm', '--json'], ciBot);
    assert.equal(http.code, 0, http.stderr);
    const found = JSON.parse(http.stdout);
    assert.equal(found.agent, 'agent-near');
    assert.equal(found.env.DEMO_LLM_BASE_URL, `http://127.0.0.1:${agentPort}/c/demo-llm`);
    assert.equal(decodeJwt(found.env.DEMO_LLM_TOKEN).azp, 'ci-bot');

    const script = 'printf "%s %s %s %s" "$PGHOST" "$PGPORT" "$PGDATABASE" "$1"; exit 3';
    const run = await cli(['run', 'demo-pg', '--', 'sh', '-c', script, 'sh', '--not-an-option-of-portcullis'], ciBot);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout, `127.0.0.1 ${agentPort} demo-pg --not-an-option-of-portcullis`);

    const noGrant = await cli(['env', 'demo-pg', '--username', 'dave', '--password', 'dave']);
    assert.equal(noGrant.code, 1);
    assert.match(noGrant.stderr, /404 Not Found: connection "demo-pg" does not exist or you hold no grant on it/);

    agentListener.close();
    const down = await cli(['env', 'demo-pg'], ciBot);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: no agent serving demo-pg answers from here; tried agent-down .*agent-near/);
    assert.equal(down.stdout, '');
  });

  it('identities: list, disable by username (refused everywhere on REST), enable again', async () => {
    const list = await cli([...asAlice, 'identities', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(JSON.parse(list.stdout).some((i: { username: string }) => i.username === 'dave'));

    assert.equal((await cli([...asAlice, 'identities', 'disable', 'dave'])).code, 2, '--reason is required');
    const unknown = await cli([...asAlice, 'identities', 'disable', 'nobody', '--reason', 'x']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no identity with the username or subject "nobody" has been seen/);

    const disabled = await cli([...asAlice, 'identities', 'disable', 'dave', '--reason', 'contract ended']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /^dave \(\S+\) disabled$/m);
    await eventually(
      async () => {
        const refused = await cli(['whoami', '--username', 'dave', '--password', 'dave']);
        return refused.code === 1 && /403 Forbidden: identity is disabled/.test(refused.stderr);
      },
      { timeoutMs: 10_000, what: 'dave refused' },
    );
    const listed = JSON.parse((await cli([...asAlice, 'identities', 'list', '--disabled', '--json'])).stdout);
    assert.deepEqual(
      listed.map((i: { username: string; disableReason: string }) => [i.username, i.disableReason]),
      [['dave', 'contract ended']],
    );

    const lastAdmin = await cli([...asAlice, 'identities', 'disable', 'alice', '--reason', 'testing']);
    assert.equal(lastAdmin.code, 1);
    assert.match(lastAdmin.stderr, /409 Conflict: alice is the last enabled admin/);

    assert.equal((await cli([...asAlice, 'identities', 'enable', 'dave', '--reason', 'rehired'])).code, 0);
    await eventually(async () => (await cli(['whoami', '--username', 'dave', '--password', 'dave'])).code === 0, {
      what: 'dave accepted again',
    });
  });
});
