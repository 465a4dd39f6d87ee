import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '../src/audit/canonical-json.js';
import { api, startControlPlane, startIssuer, testDatabase, type RunningControlPlane, type TestIssuer } from './support.js';

describe('control plane REST API (built dist, real PostgreSQL and Redis)', () => {
  let issuer: TestIssuer;
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  let admin: string;
  let auditor: string;
  const secretValue = `pw-${randomBytes(12).toString('hex')}`;

  before(async () => {
    issuer = await startIssuer();
    db = await testDatabase();
    env = {
      DATABASE_URL: db.url,
      KEYCLOAK_URL: issuer.keycloakUrl,
      PORTCULLIS_SECRET_KEY: randomBytes(32).toString('base64'),
    };
    cp = await startControlPlane(env);
    admin = await issuer.token({ sub: 'alice-sub', username: 'alice', roles: ['admin'], groups: ['platform'] });
    auditor = await issuer.token({ sub: 'bob-sub', username: 'bob', roles: ['auditor'] });
  });

  after(async () => {
    await cp?.stop();
    await db?.drop();
    await issuer?.close();
  });

  test('healthz and readyz answer without a token', async () => {
    assert.deepEqual((await api(cp.url, 'GET', '/healthz')).body, { status: 'ok' });
    const ready = await api(cp.url, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });

  test('no token, a foreign or expired token: 401 in the ApiError shape', async () => {
    const none = await api(cp.url, 'GET', '/api/v1/connections');
    assert.equal(none.status, 401);
    assert.equal(none.body.statusCode, 401);
    assert.equal(none.body.error, 'Unauthorized');
    const foreign = await issuer.token({ roles: ['admin'], iss: 'http://127.0.0.1:1/realms/other' });
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: foreign })).status, 401);
    const expired = await issuer.token({ roles: ['admin'], expiresIn: '-1m' });
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: expired })).status, 401);
    const neverExpires = await issuer.token({ roles: ['admin'], expiresIn: null });
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: neverExpires })).status, 401);
    const otherAudience = await issuer.token({ roles: ['admin'], aud: 'someone-else' });
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: otherAudience })).status, 401);
    const tampered = admin.slice(0, -4) + (admin.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: tampered })).status, 401);
  });

  test('a non-admin may read but not write: 403', async () => {
    const write = await api(cp.url, 'POST', '/api/v1/connections', {
      token: auditor,
      body: { name: 'nope', kind: 'http', target: 'http://example.test' },
    });
    assert.equal(write.status, 403);
    assert.match(write.body.message, /admin/);
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: auditor })).status, 200);
    const noRoles = await issuer.token({ roles: [] });
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections', { token: noRoles })).status, 403);
  });

  test('a credential value is sealed and never shown: not in responses, the log, the audit trail or the row', async () => {
    const created = await api(cp.url, 'POST', '/api/v1/connections', {
      token: admin,
      body: { name: 'orders', kind: 'postgres', target: 'postgres://app@db.internal:5432/orders', credential: { value: secretValue } },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.credential, { type: 'value', set: true });
    assert.deepEqual(created.body.networkLabels, ['default']);
    const byName = await api(cp.url, 'GET', '/api/v1/connections/orders', { token: auditor });
    const byId = await api(cp.url, 'GET', `/api/v1/connections/${created.body.id}`, { token: admin });
    const list = await api(cp.url, 'GET', '/api/v1/connections', { token: admin });
    assert.equal(byName.body.id, created.body.id);
    assert.equal(byId.body.name, 'orders');
    assert.equal(list.body.items.length, 1);
    const audit = await api(cp.url, 'GET', '/api/v1/audit', { token: auditor });
    for (const text of [created.text, byName.text, byId.text, list.text, audit.text, cp.output()]) {
      assert.ok(!text.includes(secretValue), 'the credential value leaked');
    }
    assert.ok(!cp.output().includes(admin.split('.')[2]!), 'no bearer token in the log');
    const row = (await db.query('SELECT secret_sealed, secret_ref FROM connections WHERE name = $1', ['orders'])).rows[0];
    assert.ok(row.secret_sealed && !row.secret_sealed.includes(secretValue));
    assert.equal(row.secret_ref, null);

    const updated = await api(cp.url, 'PATCH', '/api/v1/connections/orders', {
      token: admin,
      body: { credential: { secretRef: 'env:ORDERS_PASSWORD' }, description: 'orders replica' },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.body.credential, { type: 'secretRef', ref: 'env:ORDERS_PASSWORD' });
    const after = (await db.query('SELECT secret_sealed FROM connections WHERE name = $1', ['orders'])).rows[0];
    assert.equal(after.secret_sealed, null);
  });

  test('bad bodies get 400 naming the field and change nothing', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM connections')).rows[0].n;
    const kind = await api(cp.url, 'POST', '/api/v1/connections', {
      token: admin,
      body: { name: 'mysql-one', kind: 'mysql', target: 'mysql://x/y' },
    });
    assert.equal(kind.status, 400);
    assert.equal(kind.body.error, 'Bad Request');
    assert.match(kind.body.message, /^kind: Invalid option: expected one of "postgres"\|"http"/);
    assert.deepEqual(kind.body.issues[0].path, 'kind');

    const missing = await api(cp.url, 'POST', '/api/v1/connections', { token: admin, body: { kind: 'http', target: 'http://a.test' } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /name: /);

    const password = await api(cp.url, 'POST', '/api/v1/connections', {
      token: admin,
      body: { name: 'leaky', kind: 'postgres', target: 'postgres://u:hunter2@db/x' },
    });
    assert.equal(password.status, 400);
    assert.match(password.body.message, /target: must not contain a password/);
    assert.ok(!password.text.includes('hunter2'));

    const unknownKey = await api(cp.url, 'POST', '/api/v1/connections', {
      token: admin,
      body: { name: 'extra', kind: 'http', target: 'http://a.test', colour: 'red' },
    });
    assert.equal(unknownKey.status, 400);
    assert.match(unknownKey.body.message, /colour/);

    const notJson = await api(cp.url, 'POST', '/api/v1/connections', { token: admin, rawBody: '{"name": "x", ' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.message, 'request body is not valid JSON');

    const switchKind = await api(cp.url, 'PATCH', '/api/v1/connections/orders', { token: admin, body: { kind: 'http' } });
    assert.equal(switchKind.status, 400);
    assert.match(switchKind.body.message, /^target: /);

    assert.equal((await db.query('SELECT count(*)::int AS n FROM connections')).rows[0].n, before);
  });

  test('duplicates are 409, unknown names 404', async () => {
    const body = { name: 'search', kind: 'http', target: 'https://search.internal', credential: { secretRef: 'env:SEARCH_TOKEN' } };
    assert.equal((await api(cp.url, 'POST', '/api/v1/connections', { token: admin, body })).status, 201);
    const dup = await api(cp.url, 'POST', '/api/v1/connections', { token: admin, body });
    assert.equal(dup.status, 409);
    assert.match(dup.body.message, /"search" already exists/);
    assert.equal((await api(cp.url, 'GET', '/api/v1/connections/nowhere', { token: admin })).status, 404);
    assert.equal((await api(cp.url, 'DELETE', '/api/v1/connections/nowhere', { token: admin })).status, 404);
  });

  test('grants: unknown connection is 400 naming it; create, list, revoke', async () => {
    const unknown = await api(cp.url, 'POST', '/api/v1/grants', { token: admin, body: { connection: 'ghost', group: 'analysts' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /"ghost"/);
    const both = await api(cp.url, 'POST', '/api/v1/grants', { token: admin, body: { connection: 'orders', group: 'a', subject: 'b' } });
    assert.equal(both.status, 400);
    assert.match(both.body.message, /exactly one of group or subject/);

    const versionBefore = (await db.query('SELECT version FROM config_state WHERE id = 1')).rows[0].version;
    const grant = await api(cp.url, 'POST', '/api/v1/grants', {
      token: admin,
      body: { connection: 'orders', group: 'analysts', reason: 'quarterly report' },
    });
    assert.equal(grant.status, 201, grant.text);
    assert.equal(grant.body.connection, 'orders');
    assert.equal(grant.body.createdBy, 'alice');
    const versionAfter = (await db.query('SELECT version FROM config_state WHERE id = 1')).rows[0].version;
    assert.ok(BigInt(versionAfter) > BigInt(versionBefore), 'a grant changes what agents must know');

    const listed = await api(cp.url, 'GET', '/api/v1/grants?connection=orders', { token: auditor });
    assert.deepEqual(listed.body.items.map((g: { id: string }) => g.id), [grant.body.id]);
    assert.equal((await api(cp.url, 'GET', '/api/v1/grants?connection=search', { token: auditor })).body.items.length, 0);
    assert.equal((await api(cp.url, 'DELETE', `/api/v1/grants/${grant.body.id}`, { token: admin })).status, 204);
    assert.equal((await api(cp.url, 'DELETE', `/api/v1/grants/${grant.body.id}`, { token: admin })).status, 404);
  });

  test('agent registration returns a one-time token; only its hash is stored', async () => {
    const res = await api(cp.url, 'POST', '/api/v1/agents', { token: admin, body: { name: 'edge-a', labels: ['dc1'] } });
    assert.equal(res.status, 201, res.text);
    const { token, id } = res.body;
    assert.match(token, new RegExp(`^pca_${id.replaceAll('-', '')}_[A-Za-z0-9_-]{43}$`));
    assert.equal(res.body.status, 'offline');
    const row = (await db.query('SELECT token_hash FROM agents WHERE id = $1', [id])).rows[0];
    assert.equal(row.token_hash, createHash('sha256').update(token).digest('hex'));
    const everything = (await db.query("SELECT string_agg(t::text, '') AS all FROM agents t")).rows[0].all;
    assert.ok(!everything.includes(token));

    const got = await api(cp.url, 'GET', `/api/v1/agents/${id}`, { token: auditor });
    assert.equal(got.body.name, 'edge-a');
    assert.equal(got.body.token, undefined);
    assert.equal((await api(cp.url, 'POST', '/api/v1/agents', { token: admin, body: { name: 'edge-a' } })).status, 409);
    assert.equal((await api(cp.url, 'POST', `/api/v1/agents/${id}/revoke`, { token: auditor })).status, 403);
    const revoked = await api(cp.url, 'POST', `/api/v1/agents/${id}/revoke`, { token: admin });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
  });

  test('the audit trail is a hash chain and pages newest first', async () => {
    const all = await api(cp.url, 'GET', '/api/v1/audit?limit=500', { token: auditor });
    assert.equal(all.status, 200);
    const entries = [...all.body.items].reverse();
    assert.ok(entries.length >= 6);
    let prev = '0'.repeat(64);
    for (const e of entries) {
      assert.equal(e.prevHash, prev);
      const body = { time: e.time, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, details: e.details };
      assert.equal(e.hash, createHash('sha256').update(prev).update(canonicalJson(body)).digest('hex'));
      prev = e.hash;
    }
    const actions = new Set(entries.map((e: { action: string }) => e.action));
    for (const a of ['connection.create', 'connection.update', 'grant.create', 'grant.revoke', 'agent.register', 'agent.revoke']) {
      assert.ok(actions.has(a), `${a} is audited`);
    }
    const first = await api(cp.url, 'GET', '/api/v1/audit?limit=2', { token: auditor });
    assert.equal(first.body.items.length, 2);
    const second = await api(cp.url, 'GET', `/api/v1/audit?limit=2&cursor=${first.body.nextCursor}`, { token: auditor });
    assert.ok(BigInt(second.body.items[0].id) < BigInt(first.body.items[1].id));
    const grants = await api(cp.url, 'GET', '/api/v1/audit?action=grant.create&actor=alice', { token: auditor });
    assert.deepEqual(grants.body.items.map((e: { action: string }) => e.action), ['grant.create']);
    assert.equal((await api(cp.url, 'GET', '/api/v1/audit', { token: await issuer.token({ roles: ['steward'] }) })).status, 403);
  });

  test('identities seen in tokens are recorded', async () => {
    const row = (await db.query('SELECT username, roles, groups FROM identities WHERE subject = $1', ['alice-sub'])).rows[0];
    assert.deepEqual(row, { username: 'alice', roles: ['admin'], groups: ['platform'] });
  });

  test('OpenAPI carries the zod schemas', async () => {
    const doc = await api(cp.url, 'GET', '/api/docs-json');
    assert.equal(doc.status, 200);
    const create = doc.body.components.schemas.CreateConnectionDto;
    assert.deepEqual(create.properties.kind.enum, ['postgres', 'http', 'llm', 'vector-http']);
    assert.ok(doc.body.paths['/api/v1/connections'].post);
  });

  test('a restart applies no migration twice and duplicates nothing; without a key a value is refused', async () => {
    const count = async () =>
      (await db.query(`SELECT (SELECT count(*) FROM connections)::int AS c, (SELECT count(*) FROM agents)::int AS a,
        (SELECT count(*) FROM _prisma_migrations)::int AS m, (SELECT count(*) FROM audit_entries WHERE action <> 'login.seen')::int AS e`)).rows[0];
    const before = await count();
    assert.equal(await cp.stop(), 0, 'SIGTERM shuts down cleanly');
    const { PORTCULLIS_SECRET_KEY: _key, ...withoutKey } = env;
    cp = await startControlPlane(withoutKey);
    assert.deepEqual(await count(), before);
    assert.doesNotMatch(cp.output(), /applied migration/);
    const orders = await api(cp.url, 'GET', '/api/v1/connections/orders', { token: admin });
    assert.equal(orders.status, 200);
    const refused = await api(cp.url, 'POST', '/api/v1/connections', {
      token: admin,
      body: { name: 'needs-key', kind: 'http', target: 'http://a.test', credential: { value: secretValue } },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /PORTCULLIS_SECRET_KEY is not set/);
    assert.ok(!refused.text.includes(secretValue) && !cp.output().includes(secretValue));
    assert.deepEqual(await count(), before);
  });
});
