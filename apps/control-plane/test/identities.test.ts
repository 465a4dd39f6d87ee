// Identity lifecycle on the REST API of a real control-plane process (built dist, PostgreSQL,
// Redis, real gRPC to a stand-in agent): identities seen, disable/enable pushed to agents, the
// last-admin rule, grants with expiry, /me and the endpoints of a connection.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConfigSnapshot } from '@portcullis/proto';
import type pg from 'pg';
import { api, type ControlPlane as StackControlPlane } from '../../../e2e/lib/stack.js';
import { createDatabase, eventually, FakeAgent, insertAgent, pgClient, startControlPlane } from './agent-support.js';
import { startIssuer, type TestIssuer } from './support.js';

/** The first snapshot from position `from` on that passes `check` (a push may also repeat the previous state). */
async function configWhere(agent: FakeAgent, from: number, check: (s: ConfigSnapshot) => boolean) {
  for (let at = from; ;) {
    const next = await agent.next('config', { from: at });
    if (check(next.value)) return next;
    at = next.index + 1;
  }
}

describe('identities, grants with expiry, /me and connection endpoints', () => {
  let issuer: TestIssuer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: StackControlPlane;
  let sql: pg.Client;
  const agents: FakeAgent[] = [];
  const token: Record<string, string> = {};
  const call = (who: string, method: string, path: string, body?: unknown) =>
    api(cp, token[who], method, `/api/v1${path}`, body);
  const configVersion = async () =>
    Number((await sql.query('SELECT version FROM config_state WHERE id = 1')).rows[0]?.version ?? 1);

  before(async () => {
    issuer = await startIssuer();
    db = await createDatabase('cp_identities');
    cp = await startControlPlane({
      idp: { url: issuer.keycloakUrl } as never,
      databaseUrl: db.url,
      env: { AGENT_OFFLINE_AFTER_MS: '60000' },
    });
    sql = await pgClient(db.url);
    token.alice = await issuer.token({ sub: 'sub-alice', username: 'alice', roles: ['admin'] });
    token.frank = await issuer.token({ sub: 'sub-frank', username: 'frank', roles: ['admin'] });
    token.erin = await issuer.token({ sub: 'sub-erin', username: 'erin', roles: ['auditor'] });
    token.carol = await issuer.token({ sub: 'sub-carol', username: 'carol', groups: ['analysts'], expiresIn: '10m' });
    token.dave = await issuer.token({ sub: 'sub-dave', username: 'dave', groups: ['contractors'] });
    // Every caller is recorded when first seen (asynchronously, after its first call).
    for (const who of ['alice', 'erin', 'carol', 'dave']) await call(who, 'GET', '/me');
    await eventually(async () => (await sql.query('SELECT count(*)::int AS n FROM identities')).rows[0].n === 4, {
      what: 'identities recorded',
    });
  });

  after(async () => {
    if (process.env.SHOW_OUTPUT) console.log(cp?.process.output);
    for (const a of agents) a.close();
    await sql?.end();
    await cp?.stop();
    await db?.drop();
    await issuer?.close();
  });

  test('lists the identities seen, filtered and paged, to admins and auditors only', async () => {
    const all = await call('erin', 'GET', '/identities');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.body.items.map((i: { subject: string }) => i.subject),
      ['sub-alice', 'sub-carol', 'sub-dave', 'sub-erin'],
    );
    const dave = all.body.items.find((i: { username: string }) => i.username === 'dave');
    assert.deepEqual(dave.groups, ['contractors']);
    assert.equal(dave.disabled, false);
    assert.ok(Date.parse(dave.firstSeenAt) <= Date.parse(dave.lastSeenAt));

    const byName = await call('alice', 'GET', '/identities?username=carol');
    assert.deepEqual(
      byName.body.items.map((i: { subject: string }) => i.subject),
      ['sub-carol'],
    );
    const page1 = await call('alice', 'GET', '/identities?limit=3');
    assert.equal(page1.body.items.length, 3);
    const page2 = await call('alice', 'GET', `/identities?limit=3&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(
      page2.body.items.map((i: { subject: string }) => i.subject),
      ['sub-erin'],
    );
    assert.equal(page2.body.nextCursor, null);

    assert.equal((await call('alice', 'GET', '/identities/sub-dave')).body.username, 'dave');
    assert.equal((await call('alice', 'GET', '/identities/nobody')).status, 404);
    assert.equal((await call('carol', 'GET', '/identities')).status, 403);
  });

  test('logins seen are audited once a day per subject', async () => {
    const seen = await call('erin', 'GET', '/audit?action=login.seen');
    assert.deepEqual(seen.body.items.map((e: { target: string }) => e.target).sort(), [
      'identity:sub-alice',
      'identity:sub-carol',
      'identity:sub-dave',
      'identity:sub-erin',
    ]);
  });

  test('disable: needs admin and a reason, 404 for an unknown subject, then reaches agents and refuses the token', async () => {
    const agent = await insertAgent(sql, 'agent-revocation', ['default']);
    const a = new FakeAgent(cp.grpcAddress, agent.token);
    agents.push(a);
    a.hello();
    const first = await a.next('config');
    assert.deepEqual(first.value.disabledIdentities, []);

    assert.equal(
      (await call('erin', 'POST', '/identities/sub-dave/disable', { reason: 'contract ended' })).status,
      403,
    );
    const noReason = await call('alice', 'POST', '/identities/sub-dave/disable', { reason: '  ' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.body.message, /reason/);
    assert.equal(
      (await call('alice', 'POST', '/identities/sub-dave/disable', { reason: 'x'.repeat(501) })).status,
      400,
    );
    const unknown = await call('alice', 'POST', '/identities/sub-nobody/disable', { reason: 'contract ended' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /sub-nobody/);

    const before = await configVersion();
    const disabled = await call('alice', 'POST', '/identities/sub-dave/disable', { reason: 'contract ended' });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.body.disabled, true);
    assert.equal(disabled.body.disabledBy, 'alice');
    assert.equal(disabled.body.disableReason, 'contract ended');
    assert.equal(await configVersion(), before + 1);

    const pushed = await a.next('config', { from: first.index + 1 });
    assert.deepEqual(pushed.value.disabledIdentities, [
      { subject: 'sub-dave', username: 'dave', reason: 'contract ended' },
    ]);

    // The REST guard may hold a subject's state for up to a second.
    const refused = await eventually(async () => {
      const res = await call('dave', 'GET', '/me');
      return res.status === 403 ? res : undefined;
    }, { what: 'dave refused by the REST API', timeoutMs: 5000 });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message, 'identity is disabled');
    const listed = await call('alice', 'GET', '/identities?disabled=true');
    assert.deepEqual(
      listed.body.items.map((i: { subject: string }) => i.subject),
      ['sub-dave'],
    );

    const audit = await call('erin', 'GET', '/audit?action=identity.disable');
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].actor, 'alice');
    assert.deepEqual(audit.body.items[0].details, { subject: 'sub-dave', username: 'dave', reason: 'contract ended' });

    const enabled = await call('alice', 'POST', '/identities/sub-dave/enable', { reason: 'rehired' });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.body.disabled, false);
    await configWhere(a, pushed.index + 1, (s) => s.disabledIdentities.length === 0);
    await eventually(async () => (await call('dave', 'GET', '/me')).status === 200, {
      what: 'dave accepted again',
      timeoutMs: 10_000,
    });
    const enableAudit = await call('erin', 'GET', '/audit?action=identity.enable');
    assert.deepEqual(enableAudit.body.items[0].details, { subject: 'sub-dave', username: 'dave', reason: 'rehired' });
  });

  test('the last enabled admin cannot be disabled, by anyone, themselves included: 409', async () => {
    const last = await call('alice', 'POST', '/identities/sub-alice/disable', { reason: 'testing' });
    assert.equal(last.status, 409);
    assert.match(last.body.message, /alice is the last enabled admin/);

    await call('frank', 'GET', '/me');
    await eventually(async () => (await call('alice', 'GET', '/identities/sub-frank')).status === 200, {
      what: 'frank recorded',
    });
    const self = await call('alice', 'POST', '/identities/sub-alice/disable', { reason: 'leaving' });
    assert.equal(self.status, 200, self.text);
    // The REST guard may trust its cached answer for up to a second.
    await eventually(async () => (await call('alice', 'GET', '/me')).status === 403, {
      what: 'alice refused',
      timeoutMs: 10_000,
    });
    const frankLast = await call('frank', 'POST', '/identities/sub-frank/disable', { reason: 'testing' });
    assert.equal(frankLast.status, 409);
    assert.equal((await call('frank', 'POST', '/identities/sub-alice/enable', { reason: 'back' })).status, 200);
    await eventually(async () => (await call('alice', 'GET', '/me')).status === 200, {
      what: 'alice accepted again',
      timeoutMs: 10_000,
    });
  });

  test('grants: expiry and reason, filters, expired ones marked, audited; /me lists what the caller may use', async () => {
    const conn = await call('alice', 'POST', '/connections', {
      name: 'orders',
      kind: 'postgres',
      target: 'postgres://app@db.internal:5432/orders',
      networkLabels: ['eu'],
    });
    assert.equal(conn.status, 201, conn.text);
    await call('alice', 'POST', '/connections', {
      name: 'wiki',
      kind: 'http',
      target: 'http://wiki.internal',
      networkLabels: ['eu'],
    });

    // Far enough ahead that a loaded machine still reads it before it expires.
    const soon = new Date(Date.now() + 5000).toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const g1 = await call('alice', 'POST', '/grants', {
      connection: 'orders',
      group: 'analysts',
      reason: 'quarterly report',
      expiresAt: soon,
    });
    assert.equal(g1.status, 201, g1.text);
    assert.equal(g1.body.expired, false);
    assert.equal(g1.body.reason, 'quarterly report');
    const g2 = await call('alice', 'POST', '/grants', { connection: 'wiki', subject: 'sub-carol', expiresAt: later });
    const g3 = await call('alice', 'POST', '/grants', { connection: 'orders', group: 'contractors' });
    assert.equal((await call('alice', 'POST', '/grants', { connection: 'nope', group: 'analysts' })).status, 400);
    assert.equal(
      (await call('alice', 'POST', '/grants', { connection: 'orders', group: 'x', expiresAt: '2020-01-01T00:00:00Z' }))
        .status,
      400,
    );

    const me = await call('carol', 'GET', '/me');
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.subject, 'sub-carol');
    assert.equal(me.body.username, 'carol');
    assert.deepEqual(me.body.groups, ['analysts']);
    const exp = JSON.parse(Buffer.from(token.carol!.split('.')[1]!, 'base64url').toString()).exp as number;
    assert.equal(me.body.tokenExpiresAt, new Date(exp * 1000).toISOString());
    assert.deepEqual(me.body.grants, [
      { connection: 'orders', kind: 'postgres', via: 'group:analysts', expiresAt: soon },
      { connection: 'wiki', kind: 'http', via: 'subject', expiresAt: later },
    ]);

    const bySubject = await call('erin', 'GET', '/grants?subject=sub-carol');
    assert.deepEqual(
      bySubject.body.items.map((g: { id: string }) => g.id),
      [g2.body.id],
    );
    const byGroup = await call('erin', 'GET', '/grants?group=contractors&connection=orders');
    assert.deepEqual(
      byGroup.body.items.map((g: { id: string }) => g.id),
      [g3.body.id],
    );

    await eventually(async () => Date.now() > Date.parse(soon), { what: 'the grant expiry', timeoutMs: 15_000 });
    const all = await call('erin', 'GET', '/grants?connection=orders');
    assert.deepEqual(
      all.body.items.map((g: { id: string; expired: boolean }) => [g.id, g.expired]),
      [
        [g1.body.id, true],
        [g3.body.id, false],
      ],
    );
    const inForce = await call('erin', 'GET', '/grants?connection=orders&expired=false');
    assert.deepEqual(
      inForce.body.items.map((g: { id: string }) => g.id),
      [g3.body.id],
    );
    assert.deepEqual(
      (await call('carol', 'GET', '/me')).body.grants.map((g: { connection: string }) => g.connection),
      ['wiki'],
    );

    assert.equal((await call('alice', 'DELETE', `/grants/${g3.body.id}`)).status, 204);
    const audit = await call('erin', 'GET', '/audit?action=grant.revoke');
    assert.equal(audit.body.items[0].details.id, g3.body.id);
    const created = await call('erin', 'GET', '/audit?action=grant.create');
    const first = created.body.items.find((e: { details: { id: string } }) => e.details.id === g1.body.id);
    assert.deepEqual(first.details, {
      id: g1.body.id,
      group: 'analysts',
      subject: null,
      reason: 'quarterly report',
      expiresAt: soon,
    });
  });

  test('endpoints: the online agents serving the connection, for grantees and admins; 404 to anyone else', async () => {
    await call('alice', 'POST', '/connections', {
      name: 'ledger',
      kind: 'postgres',
      target: 'postgres://db.internal:5432/ledger',
      networkLabels: ['fin', 'fin-dr'],
    });
    await call('alice', 'POST', '/grants', { connection: 'ledger', group: 'analysts' });
    const serving = await insertAgent(sql, 'agent-fin', ['fin']);
    const dr = await insertAgent(sql, 'agent-fin-dr', ['fin-dr', 'other']);
    const elsewhere = await insertAgent(sql, 'agent-us', ['us']);
    await insertAgent(sql, 'agent-fin-offline', ['fin']);
    for (const { token: t } of [serving, dr, elsewhere]) {
      const a = new FakeAgent(cp.grpcAddress, t);
      agents.push(a);
      a.hello();
      await a.next('config');
    }

    const res = await call('carol', 'GET', '/connections/ledger/endpoints');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      connection: { name: 'ledger', kind: 'postgres' },
      agents: [
        {
          id: serving.id,
          name: 'agent-fin',
          labels: ['fin'],
          addresses: [{ protocol: 'postgres', address: '10.0.0.5:15432' }],
        },
        {
          id: dr.id,
          name: 'agent-fin-dr',
          labels: ['fin-dr', 'other'],
          addresses: [{ protocol: 'postgres', address: '10.0.0.5:15432' }],
        },
      ],
    });
    assert.equal((await call('alice', 'GET', '/connections/ledger/endpoints')).status, 200);

    const noGrant = await call('dave', 'GET', '/connections/ledger/endpoints');
    const missing = await call('dave', 'GET', '/connections/no-such/endpoints');
    assert.equal(noGrant.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(
      noGrant.body.message.replace('ledger', 'X'),
      missing.body.message.replace('no-such', 'X'),
      'no hint that ledger exists',
    );
    assert.equal((await api(cp, undefined, 'GET', '/api/v1/connections/ledger/endpoints')).status, 401);
  });
});
