// Issue 5 acceptance on real processes: the policy from the control plane enforced by a real agent
// on real PostgreSQL clients (psql, pg, Prisma Client): guardrails against the bypass corpus,
// masking with valid types, the per-statement row budget, bad policies refused, changes within 1 s.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { BYPASS_CASES } from '../../packages/policy/src/testing/bypass-cases.js';
import { eventually, repoRoot } from '../lib/process.js';
import { api, databaseUrl, userToken, type Agent, type ControlPlane } from '../lib/stack.js';
import { agentClient, agentPrisma, startDemoStack, type DemoStack } from '../lib/demo-stack.js';

const run = promisify(execFile);
const CUSTOMERS = 10_000;
/** What a client sees for a statement the policy refused (not an upstream error). */
const POLICY_REFUSAL = /^blocked by |needs review/;

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

describe('policies on the PostgreSQL path', () => {
  let stack: DemoStack;
  let demoDb: string;
  let cp: ControlPlane;
  let agent: Agent;
  let alice: string;
  let carol: string;

  const psqlEnv = () => ({ ...process.env, PGPASSWORD: carol, PGSSLMODE: 'prefer', PGCONNECT_TIMEOUT: '5' });
  const psql = (sql: string) => {
    const running = run(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        `host=127.0.0.1 port=${agent.pgPort} dbname=demo-pg user=carol`,
        '-c',
        sql,
      ],
      {
        env: psqlEnv(),
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    // No input: a COPY ... FROM STDIN twin ends at once instead of waiting.
    running.child.stdin?.end();
    return running.then(
      ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
      (error: { stdout: string; stderr: string }) => ({ ok: false, stdout: error.stdout, stderr: error.stderr }),
    );
  };
  const pgClient = async () => {
    const client = agentClient(agent, carol, 'carol');
    await client.connect();
    return client;
  };
  const direct = async () => {
    const client = new pg.Client({ connectionString: databaseUrl(demoDb) });
    await client.connect();
    return client;
  };

  before(async () => {
    stack = await startDemoStack({
      name: 'policy',
      customers: CUSTOMERS,
      groups: ['analysts'],
      agents: ['policy-agent'],
    });
    ({ cp, agent, alice, demoDb } = stack);
    carol = await userToken(stack.idp, 'carol');
  });

  after(async () => {
    await stack?.stop();
  });

  // Carol's results are masked here, so the COPY ... TO STDOUT twins are refused by design (their
  // rows could not be masked): not by the guardrail under test, which is what the twins check.
  const BY_MASKING = /\[rule mask:copy-to-stdout\]/;

  test(`bypass corpus: ${BYPASS_CASES.length} forbidden statements blocked with psql and pg, their twins allowed`, async () => {
    assert.ok(BYPASS_CASES.length >= 60);
    const wrong: string[] = [];
    const client = await pgClient();
    try {
      for (const [forbidden, guardrail, twin] of BYPASS_CASES) {
        const refused = await client.query(forbidden).then(
          () => undefined,
          (error: { code: string; message: string }) => error,
        );
        if (refused?.code !== '42501' || !refused.message.includes(`[rule guardrail:${guardrail}]`)) {
          wrong.push(`pg: ${forbidden} -> ${refused ? `${refused.code} ${refused.message}` : 'ran'}`);
        }
        const twinError = await client.query(twin).then(
          () => undefined,
          (error: { message: string }) => error,
        );
        if (twinError && POLICY_REFUSAL.test(twinError.message) && !BY_MASKING.test(twinError.message))
          wrong.push(`pg twin: ${twin} -> ${twinError.message}`);
        // A twin may have left a transaction open or failed one: start the next case clean.
        await client.query('ROLLBACK').catch(() => undefined);
      }
    } finally {
      await client.end();
    }
    await inBatches(BYPASS_CASES, 12, async ([forbidden, guardrail, twin]) => {
      const refused = await psql(forbidden);
      if (refused.ok || !refused.stderr.includes(`[rule guardrail:${guardrail}]`)) {
        wrong.push(`psql: ${forbidden} -> ${refused.ok ? 'ran' : refused.stderr}`);
      }
      const allowed = await psql(twin);
      if (/ERROR:\s+(blocked by |statement needs review)/.test(allowed.stderr) && !BY_MASKING.test(allowed.stderr))
        wrong.push(`psql twin: ${twin} -> ${allowed.stderr}`);
    });
    assert.deepEqual(wrong, []);
    // Nothing forbidden reached the database: the table is there, only the twins' single-row
    // deletes (`DELETE FROM customers WHERE id = 1`, allowed) took effect.
    const check = await direct();
    assert.ok((await check.query('SELECT count(*)::int AS n FROM customers')).rows[0].n >= CUSTOMERS - 1);
    await check.end();
  });

  test('default policy: psql, pg and Prisma see masked values of valid types, and as many rows as direct', async () => {
    const plain = await direct();
    const truth = (await plain.query('SELECT * FROM customers ORDER BY id LIMIT 3')).rows;
    const count = (await plain.query('SELECT count(*)::int AS n FROM customers')).rows[0].n;
    await plain.end();

    const client = await pgClient();
    const all = await client.query('SELECT * FROM customers');
    assert.equal(all.rows.length, count);
    const first = (await client.query('SELECT * FROM customers ORDER BY id LIMIT 3')).rows;
    for (const [i, row] of first.entries()) {
      assert.equal(row.email, '[EMAIL]');
      assert.equal(row.card_number, '[CREDIT_CARD]');
      assert.equal(row.ssn, '[US_SSN]');
      assert.notEqual(row.phone, truth[i].phone);
      assert.equal(row.id, truth[i].id);
      assert.equal(row.city, truth[i].city);
      assert.equal(row.balance, truth[i].balance);
    }
    // Binary results (as Prisma asks for some types) are masked too.
    const binary = await client.query({
      text: 'SELECT email, card_number FROM customers WHERE id > $1 ORDER BY id LIMIT 1',
      values: [0],
      binary: true,
    } as pg.QueryConfig);
    assert.equal(binary.rows[0].email.toString(), '[EMAIL]');
    await client.end();

    const viaPsql = await psql('SELECT email, card_number, ssn FROM customers ORDER BY id LIMIT 2');
    assert.equal(viaPsql.stdout.trim(), '[EMAIL]|[CREDIT_CARD]|[US_SSN]\n[EMAIL]|[CREDIT_CARD]|[US_SSN]');

    const prisma = agentPrisma(agent, carol, 'carol');
    try {
      const rows = await prisma.customer.findMany({ take: 3, orderBy: { id: 'asc' } });
      assert.equal(rows.length, 3);
      assert.equal(rows[0]!.email, '[EMAIL]');
      assert.equal(rows[0]!.cardNumber, '[CREDIT_CARD]');
      assert.ok(rows[0]!.createdAt instanceof Date && !Number.isNaN(rows[0]!.createdAt.getTime()));
      assert.equal(rows[0]!.balance.toString(), Number(truth[0].balance).toString());
      assert.equal(await prisma.customer.count(), count);
    } finally {
      await prisma.$disconnect();
    }
  });

  test('a budget of 1000 rows per statement reaches the agent within 1 s and stops SELECT * FROM customers; LIMIT 10 passes', async () => {
    const current = (await api(cp, alice, 'GET', '/api/v1/policies')).body;
    const before = (await agent.status()).configVersion;
    const started = Date.now();
    const put = await api(cp, alice, 'PUT', '/api/v1/policies', {
      ...current.policy,
      budgets: { statement: { maxRows: 1000 } },
    });
    assert.equal(put.status, 200, put.text);
    await eventually(async () => (await agent.status()).configVersion !== before, {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'new config on the agent',
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000, `policy change took ${elapsed} ms to reach the agent`);

    const client = await pgClient();
    await assert.rejects(client.query('SELECT * FROM customers'), (error: { code: string; message: string }) => {
      assert.equal(error.code, '53400');
      assert.match(error.message, /row budget of 1000 rows per statement exceeded/);
      return true;
    });
    assert.equal((await client.query('SELECT * FROM customers LIMIT 10')).rows.length, 10);
    await client.end();
    const viaPsql = await psql('SELECT * FROM customers');
    assert.match(viaPsql.stderr, /row budget of 1000 rows/);
  });

  test('an invalid policy is a 400 naming the field and changes nothing on the agent', async () => {
    const before = (await agent.status()).configVersion;
    const bad = await api(cp, alice, 'PUT', '/api/v1/policies', {
      rules: [{ id: 'r', action: 'mask', mask: { entities: ['PASSPORT'] } }],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /rules\[0\]\.mask\.entities\[0\]: unknown entity "PASSPORT"/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await agent.status()).configVersion, before);
    // The budget of the version in force still applies.
    const client = await pgClient();
    await assert.rejects(client.query('SELECT * FROM customers'), { code: '53400' });
    await client.end();
  });

  test('the CLI tests a policy file against sample SQL and text, and refuses a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-cli-'));
    const cli = (args: string[]) =>
      run(process.execPath, [join(repoRoot, 'apps/cli/dist/main.js'), ...args, '--token', alice], {
        env: { ...process.env, PORTCULLIS_URL: cp.url, XDG_CONFIG_HOME: dir },
      });
    const good = join(dir, 'policy.yaml');
    writeFileSync(
      good,
      'defaultAction: allow\nrules:\n  - id: mask-cards\n    action: mask\n    mask: { entities: [CREDIT_CARD] }\n',
    );
    const preview = JSON.parse(
      (
        await cli([
          'policy',
          'test',
          '-f',
          good,
          '--sql',
          'SELECT card_number FROM customers',
          '--text',
          'card 4111 1111 1111 1111',
          '--json',
        ])
      ).stdout,
    );
    assert.equal(preview.decision.action, 'mask');
    assert.equal(preview.decision.ruleId, 'mask-cards');
    assert.doesNotMatch(preview.masked.text, /4111 1111 1111 1111/);
    const blocked = JSON.parse((await cli(['policy', 'test', '--sql', 'DROP TABLE customers', '--json'])).stdout);
    assert.equal(blocked.decision.action, 'block');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - id: r\n    action: mask\n    mask: { entities: [PASSPORT] }\n');
    await assert.rejects(cli(['policy', 'apply', '-f', bad]), (e: any) => e.code !== 0 && /PASSPORT/.test(e.stderr));
    rmSync(dir, { recursive: true, force: true });
  });
});
