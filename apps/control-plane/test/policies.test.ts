// Policy management on the REST API of a real control-plane process: validation (400 naming the
// field, nothing changed), versions, rollback, preview, audit, and the policy in agents' snapshots.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { keyedHash } from '@portcullis/policy';
import type { ConfigSnapshot } from '@portcullis/proto';
import type pg from 'pg';
import { api, type ControlPlane as StackControlPlane } from '../../../e2e/lib/stack.js';
import { createDatabase, FakeAgent, insertAgent, pgClient, startControlPlane } from './agent-support.js';
import { startIssuer, type TestIssuer } from './support.js';

async function configWhere(agent: FakeAgent, from: number, check: (s: ConfigSnapshot) => boolean) {
  for (let at = from; ;) {
    const next = await agent.next('config', { from: at });
    if (check(next.value)) return next;
    at = next.index + 1;
  }
}

const STRICT = {
  defaultAction: 'allow',
  rules: [{ id: 'no-salaries', match: { tables: ['salaries'] }, action: 'block', reason: 'salaries are off limits' }],
  masking: { entities: ['EMAIL'] },
};

describe('policies REST', () => {
  let issuer: TestIssuer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: StackControlPlane;
  let sql: pg.Client;
  let agent: FakeAgent;
  const token: Record<string, string> = {};
  const call = (who: string, method: string, path: string, body?: unknown) =>
    api(cp, token[who], method, `/api/v1${path}`, body);

  before(async () => {
    issuer = await startIssuer();
    db = await createDatabase('cp_policies');
    cp = await startControlPlane({
      idp: { url: issuer.keycloakUrl } as never,
      databaseUrl: db.url,
      env: { AGENT_OFFLINE_AFTER_MS: '60000', PORTCULLIS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') },
    });
    sql = await pgClient(db.url);
    token.alice = await issuer.token({ sub: 'sub-alice', username: 'alice', roles: ['admin'] });
    token.erin = await issuer.token({ sub: 'sub-erin', username: 'erin', roles: ['auditor'] });
    const inserted = await insertAgent(sql, 'agent-policies', ['default']);
    agent = new FakeAgent(cp.grpcAddress, inserted.token);
    agent.hello();
  });
  after(async () => {
    agent?.close();
    await sql?.end();
    await cp?.stop();
    await db?.drop();
    await issuer?.close();
  });

  test('the built-in default is version 0 and reaches agents with a hash key', async () => {
    const current = await call('erin', 'GET', '/policies');
    assert.equal(current.status, 200);
    assert.equal(current.body.version, 0);
    assert.equal(current.body.createdAt, null);
    assert.ok(current.body.policy.rules.some((r: { action: string }) => r.action === 'mask'));
    const first = await agent.next('config');
    assert.equal(first.value.policy?.version, 0);
    assert.match(first.value.policy!.hashKey, /^[0-9a-f]{64}$/);
    assert.doesNotMatch(JSON.stringify(current.body), new RegExp(first.value.policy!.hashKey));
  });

  test('a bad regex or an unknown entity is a 400 naming the field, and changes nothing', async () => {
    const before = Number((await sql.query('SELECT version FROM config_state WHERE id = 1')).rows[0]?.version ?? 1);
    const badRegex = await call('alice', 'PUT', '/policies', {
      detectors: { custom: [{ name: 'EMPLOYEE_ID', pattern: 'E-(\\d{6}' }] },
    });
    assert.equal(badRegex.status, 400);
    assert.match(badRegex.body.message, /detectors\.custom\[0\]\.pattern/);
    const unknown = await call('alice', 'PUT', '/policies', {
      rules: [{ id: 'm', action: 'mask', mask: { entities: ['PASSPORT'] } }],
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /rules\[0\]\.mask\.entities\[0\]: unknown entity "PASSPORT"/);
    assert.equal((await call('erin', 'PUT', '/policies', STRICT)).status, 403);
    assert.equal((await call('alice', 'GET', '/policies')).body.version, 0);
    const after = Number((await sql.query('SELECT version FROM config_state WHERE id = 1')).rows[0]?.version ?? 1);
    assert.equal(after, before);
  });

  test('every change is a new version, pushed to agents; rollback makes a new version equal to an older one', async () => {
    const from = agent.received.length;
    const put = await call('alice', 'PUT', '/policies', STRICT);
    assert.equal(put.status, 200);
    assert.equal(put.body.version, 1);
    assert.equal(put.body.createdBy, 'alice');
    const pushed = await configWhere(agent, from, (s) => s.policy?.version === 1);
    assert.deepEqual((pushed.value.policy!.document as { rules: unknown[] }).rules, STRICT.rules);

    const rolled = await call('alice', 'POST', '/policies/rollback', { version: 0 });
    assert.equal(rolled.status, 200);
    assert.equal(rolled.body.version, 2);
    assert.equal(rolled.body.restoredFrom, 0);
    assert.deepEqual(rolled.body.policy, (await call('alice', 'GET', '/policies/versions/0')).body.policy);
    assert.equal((await call('alice', 'POST', '/policies/rollback', { version: 99 })).status, 404);

    const versions = await call('erin', 'GET', '/policies/versions');
    assert.deepEqual(versions.body.items.map((v: { version: number }) => v.version), [2, 1, 0]);
    assert.equal((await call('erin', 'GET', '/policies/versions/1')).body.policy.rules[0].id, 'no-salaries');
    assert.equal((await call('erin', 'GET', '/policies/versions/7')).status, 404);

    const audit = await sql.query(`SELECT action, target FROM audit_entries WHERE action LIKE 'policy.%' ORDER BY id`);
    assert.deepEqual(audit.rows, [
      { action: 'policy.update', target: 'policy:1' },
      { action: 'policy.rollback', target: 'policy:2' },
    ]);
  });

  test('preview: decision, explanation and masked text from the same engine', async () => {
    const blocked = await call('erin', 'POST', '/policies/preview', { sql: 'DROP TABLE customers' });
    assert.equal(blocked.status, 200);
    assert.equal(blocked.body.decision.action, 'block');
    assert.equal(blocked.body.decision.ruleId, 'guardrail:drop');
    assert.equal(blocked.body.decision.policyVersion, 2);

    const draft = { policy: STRICT, sql: 'SELECT * FROM salaries', groups: ['analysts'] };
    const notAdmin = await call('erin', 'POST', '/policies/preview', draft);
    assert.equal(notAdmin.status, 403, 'drafts are previewed by admins only (their detectors run here)');
    assert.match(notAdmin.body.message, /only admins may preview a draft policy/);
    const withPolicy = await call('alice', 'POST', '/policies/preview', draft);
    assert.equal(withPolicy.body.decision.action, 'block');
    assert.equal(withPolicy.body.decision.reason, 'salaries are off limits');
    assert.ok(withPolicy.body.explanation.some((c: { ruleId: string; matched: boolean }) => c.ruleId === 'no-salaries' && c.matched));

    const masked = await call('erin', 'POST', '/policies/preview', {
      sql: 'SELECT email FROM customers',
      text: 'write to jane@example.com, card 4111 1111 1111 1111',
    });
    assert.equal(masked.body.decision.action, 'mask');
    assert.equal(masked.body.masked.text, 'write to [EMAIL], card [CREDIT_CARD]');
    assert.deepEqual(masked.body.masked.findings.map((f: { entity: string }) => f.entity).sort(), ['CREDIT_CARD', 'EMAIL']);

    const invalid = await call('alice', 'POST', '/policies/preview', { policy: { defaultAction: 'maybe' }, sql: 'SELECT 1' });
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.message, /defaultAction/);
  });

  test("preview hashes with a key of its own, so it cannot be used to match the agents' hashes", async () => {
    const agentsKey = (await configWhere(agent, 0, (s) => Boolean(s.policy?.hashKey))).value.policy!.hashKey;
    const card = '4111 1111 1111 1111';
    const preview = await call('alice', 'POST', '/policies/preview', {
      policy: { defaultAction: 'allow', masking: { entities: ['CREDIT_CARD'], style: 'hash' } },
      text: `card ${card}`,
    });
    assert.equal(preview.status, 200);
    assert.match(preview.body.masked.text, /^card \[CREDIT_CARD:[0-9a-f]+\]$/);
    assert.ok(!preview.body.masked.text.includes(keyedHash(agentsKey, card)), 'not the hash agents write');
  });
});
