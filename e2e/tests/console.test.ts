/// <reference lib="dom" />
// (page.evaluate bodies run in the browser.)
// Issue 7 acceptance: the web console in real Chromium, served by a real control plane, logging in
// through the real dev IdP, with a real agent and real psql/pg clients on the data path.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import pg from 'pg';
import type { Page, Response } from 'playwright-core';
import { seedDemoDatabase } from '../../deploy/local/demo-data.mjs';
import { launchBrowser, logIn, screenshot, type Browser } from '../lib/browser.js';
import { eventually, freePort } from '../lib/process.js';
import {
  adminDatabaseUrl,
  api,
  createDatabase,
  databaseUrl,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  userToken,
  type Agent,
  type ControlPlane,
  type Idp,
} from '../lib/stack.js';

const run = promisify(execFile);

describe('the web console', () => {
  // The credential typed into the form: random, so finding it anywhere means it leaked from there.
  const credential = `pw-${randomBytes(12).toString('hex')}`;
  const suffix = randomBytes(4).toString('hex');
  const demoDb = `e2e_console_demo_${suffix}`;
  const readerRole = `e2e_console_reader_${suffix}`;
  const responses: { url: string; body: string }[] = [];
  let idp: Idp;
  let store: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let agent: Agent;
  let browser: Browser;
  let alicePage: Page;
  let cardNumbers: string[];

  before(async () => {
    // The console must be served from an origin the IdP accepts as a redirect: this test's own.
    const port = await freePort();
    idp = await startIdp({ consoleOrigin: `http://127.0.0.1:${port}` });
    store = await createDatabase('e2e_console_store');
    await seedDemoDatabase({
      adminUrl: adminDatabaseUrl,
      database: demoDb,
      customers: 200,
      role: readerRole,
      password: credential,
    });
    const demo = new pg.Client({ connectionString: databaseUrl(demoDb) });
    await demo.connect();
    cardNumbers = (await demo.query('select card_number from customers order by id limit 3')).rows.map(
      (r) => r.card_number,
    );
    await demo.end();

    cp = await startControlPlane({ idp, databaseUrl: store.url, port, console: true });
    const reg = await registerAgent(cp, await userToken(idp, 'alice'), 'console-agent');
    agent = await startAgent({ controlPlane: cp, token: reg.token });
    browser = await launchBrowser();
    alicePage = await browser.newPage();
    alicePage.on('response', (r) => void record(r));
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await cp?.stop();
    await idp?.stop();
    await store?.drop();
    const admin = new pg.Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${demoDb}" WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS "${readerRole}"`);
    await admin.end();
  });

  async function record(response: Response): Promise<void> {
    try {
      responses.push({ url: response.url(), body: await response.text() });
    } catch {
      // Redirects and aborted requests have no body to leak anything.
    }
  }

  const nav = (page: Page, name: string) => page.getByRole('link', { name, exact: true }).click();
  const psqlEnv = (token: string) => ({ ...process.env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '5' });
  const psqlTarget = (user: string) => `host=127.0.0.1 port=${agent.pgPort} dbname=demo-pg user=${user}`;

  /** A write the console would never offer this person, sent from their browser with their token. */
  const forgeConnection = (page: Page, name: string) =>
    page.evaluate(async (name) => {
      const tokens = JSON.parse(sessionStorage.getItem('portcullis.tokens') ?? '{}') as { accessToken?: string };
      const res = await fetch('/api/v1/connections', {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, kind: 'postgres', target: 'postgresql://x@127.0.0.1:5432/x' }),
      });
      return { status: res.status, hadToken: Boolean(tokens.accessToken) };
    }, name);

  const adminActions = (page: Page) =>
    page
      .getByRole('button', {
        name: /^(New connection|Register agent|Grant access|Disable|Edit|Delete connection|Save)/,
      })
      .or(page.getByRole('link', { name: /^(New connection|Edit)$/ }))
      .count();

  test('admin flow: alice logs in, registers a postgres connection with a credential, grants it, previews a masking rule', async () => {
    const page = alicePage;
    await logIn(page, cp.url, 'alice');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    await nav(page, 'Connections');
    await page.getByRole('link', { name: 'New connection' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('demo-pg');
    await page.getByLabel('Target').fill(`postgresql://${readerRole}@127.0.0.1:5432/${demoDb}`);
    await page.getByText('Value', { exact: true }).click();
    await page.getByLabel('Secret value').fill(credential);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'demo-pg' }).waitFor();

    // dave is a contractor: his grant is what lets him in for the disable test.
    for (const [group, reason] of [
      ['analysts', 'Quarterly reporting'],
      ['contractors', 'Migration support'],
    ] as const) {
      await page.getByLabel('Group').fill(group);
      await page.getByLabel('Reason').fill(reason);
      await page.getByRole('button', { name: 'Grant access' }).click();
      await page.getByRole('cell', { name: reason }).waitFor();
    }
    assert.ok((await adminActions(page)) > 0, 'an admin sees the actions the other roles must not');
    await screenshot(page, 'connection');
    await nav(page, 'Connections');
    await page
      .getByRole('cell', { name: /demo-pg/ })
      .first()
      .waitFor();
    await screenshot(page, 'connections');

    const alice = await userToken(idp, 'alice');
    const grants = await api(cp, alice, 'GET', '/api/v1/grants?connection=demo-pg');
    assert.deepEqual(grants.body.items.map((g: any) => g.group).sort(), ['analysts', 'contractors']);

    await nav(page, 'Policies');
    await page.getByRole('tab', { name: 'JSON' }).click();
    const editor = page.getByLabel('Policy document (JSON)');
    await editor.waitFor();
    await editor.fill(
      JSON.stringify(
        {
          defaultAction: 'allow',
          rules: [
            {
              id: 'mask-cards',
              description: 'card numbers are masked',
              action: 'mask',
              mask: { entities: ['CREDIT_CARD'], style: 'redact' },
            },
          ],
        },
        null,
        2,
      ),
    );
    await page.getByLabel('Statement (SQL)').fill('select full_name, card_number from customers where id = 42');
    await page.getByLabel('Sample result or text').fill('Ada Lovelace, card 4111 1111 1111 1111, order 42');
    const preview = page.locator('.policy-preview');
    await preview.locator('.badge', { hasText: 'mask' }).waitFor({ timeout: 5000 });
    // The draft's own rule decided, not the policy in force.
    await preview.locator('.explanation code', { hasText: 'mask-cards' }).waitFor();
    const masked = preview.locator('.masked');
    await eventually(async () => /order 42/.test((await masked.textContent()) ?? ''), { what: 'masked sample' });
    assert.doesNotMatch((await masked.textContent()) ?? '', /4111 1111 1111 1111/);
    await screenshot(page, 'policy-preview');
    await page.getByRole('button', { name: /^Save/ }).click();
    await page.getByText(/Saved\./).waitFor();
  });

  test("effect on the data path: carol's psql query returns masked rows, and the session is in the console within 2 s", async () => {
    await eventually(async () => (await agent.status()).connections.includes('demo-pg'), {
      what: 'demo-pg on the agent',
    });
    const carol = await userToken(idp, 'carol');
    const out = await run(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-F',
        '|',
        '-v',
        'ON_ERROR_STOP=1',
        psqlTarget('carol'),
        '-c',
        'select id, card_number from customers order by id limit 3',
      ],
      { env: psqlEnv(carol) },
    );
    const rows = out.stdout.trim().split('\n');
    assert.deepEqual(
      rows.map((r) => r.split('|')[0]),
      ['1', '2', '3'],
    );
    for (const card of cardNumbers) assert.ok(!out.stdout.includes(card), `card number ${card} reached carol unmasked`);
    const maskedCard = rows[0]!.split('|')[1]!;

    const page = alicePage;
    const t0 = Date.now();
    await nav(page, 'Sessions');
    const row = page.getByRole('row', { name: /carol/ }).first();
    await row.waitFor({ timeout: 2000 });
    console.log(`carol's session listed ${Date.now() - t0} ms after psql exited`);
    await row.click();
    await page.getByText(/Event 1 of/).waitFor();
    // Step to the statement that returned the rows: its recorded result is what carol saw.
    const result = page.locator('.replay-detail, .event-detail').getByText(maskedCard, { exact: true }).first();
    // The list may show the session before its statement is stored: the replay of a session still
    // open polls for new events, so step on until the statement arrives.
    const deadline = Date.now() + 10_000;
    while (!(await result.isVisible()) && Date.now() < deadline) {
      const forward = page.getByRole('button', { name: /Forward/ });
      if (await forward.isEnabled()) {
        await forward.click();
        // Let the step's detail render before stepping on: stepping past the statement to the
        // session's end would leave nothing to find.
        await result.waitFor({ timeout: 1000 }).catch(() => undefined);
      } else await page.waitForTimeout(200);
    }
    assert.ok(await result.isVisible(), `the replay shows carol's masked value ${maskedCard}`);
    // Masked by the rule alice saved in the admin flow.
    await page
      .locator('.replay-detail')
      .getByText(/mask-cards/)
      .first()
      .waitFor();
    await screenshot(page, 'replay');
  });

  test('disable: alice disables dave while his session is open; the console shows it ending and his client is told', async () => {
    const dave = await userToken(idp, 'dave');
    const daveSubject = decodeJwt(dave).sub!;
    const client = new pg.Client({
      host: '127.0.0.1',
      port: agent.pgPort,
      database: 'demo-pg',
      user: 'dave',
      password: dave,
    });
    const cutOff = new Promise<string>((resolve) => {
      let message = '';
      client.on('error', (e) => (message ||= e.message));
      client.on('end', () => resolve(message));
    });
    await client.connect();
    await client.query('select 1');

    const page = alicePage;
    await page.goto(`${cp.url}/identities/${encodeURIComponent(daveSubject)}`);
    await page.getByRole('heading', { name: 'dave' }).waitFor();
    const sessions = page.locator('table').filter({ hasText: 'demo-pg' });
    await sessions.getByText('live', { exact: true }).waitFor({ timeout: 5000 });

    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable dave' });
    await dialog.getByLabel('Reason').fill('contract ended');
    await dialog.getByRole('button', { name: 'Disable now' }).click();

    assert.match(await cutOff, /disabled/);
    await page.getByText('disabled', { exact: true }).first().waitFor();
    await eventually(async () => (await sessions.getByText('live', { exact: true }).count()) === 0, {
      timeoutMs: 5000,
      what: "dave's session shown ended",
    });
    await screenshot(page, 'identity-disabled');
  });

  test('roles: carol sees no admin actions, and a write forged from her browser gets 403', async () => {
    const page = await browser.newPage();
    await logIn(page, cp.url, 'carol');
    await page.getByRole('heading', { name: 'No access to the console' }).waitFor();
    assert.equal(await adminActions(page), 0);
    await page.goto(`${cp.url}/connections/new`);
    await page.getByRole('heading', { name: 'No access to the console' }).waitFor();
    assert.equal(await page.getByLabel('Secret value').count(), 0);
    assert.deepEqual(await forgeConnection(page, 'forged-by-carol'), { status: 403, hadToken: true });

    // An auditor reads everything and changes nothing, in the page and at the API.
    const auditor = await browser.newPage();
    await logIn(auditor, cp.url, 'erin');
    await auditor.goto(`${cp.url}/connections/demo-pg`);
    await auditor.getByRole('heading', { name: 'demo-pg' }).waitFor();
    await auditor.getByRole('cell', { name: 'Quarterly reporting' }).waitFor();
    assert.equal(await adminActions(auditor), 0);
    assert.deepEqual(await forgeConnection(auditor, 'forged-by-erin'), { status: 403, hadToken: true });
    // The policy page is read-only for her, and its preview runs the policy in force (the control
    // plane previews drafts for admins only).
    await auditor.goto(`${cp.url}/policies`);
    await auditor.getByLabel('Sample result or text').fill('card 4111 1111 1111 1111, order 42');
    const auditorPreview = auditor.locator('.policy-preview .masked');
    await eventually(async () => /order 42/.test((await auditorPreview.textContent()) ?? ''), { what: "erin's preview" });
    assert.doesNotMatch((await auditorPreview.textContent()) ?? '', /4111 1111 1111 1111/);

    const alice = await userToken(idp, 'alice');
    const names = (await api(cp, alice, 'GET', '/api/v1/connections')).body.items.map((c: any) => c.name);
    assert.deepEqual(names, ['demo-pg']);
  });

  test('test connection: alice clicks "Test connection" on demo-pg and sees the upstream answer', async () => {
    const page = alicePage;
    await page.goto(`${cp.url}/connections/demo-pg`);
    await page.getByRole('heading', { name: 'demo-pg' }).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByRole('status').filter({ hasText: 'The upstream answered.' });
    await result.waitFor({ timeout: 12_000 });
    assert.match(
      (await result.textContent()) ?? '',
      new RegExp(`PostgreSQL 15\\.\\d+.*, logged in as ${readerRole} to database ${demoDb} — via agent console-agent`),
    );
    await screenshot(page, 'connection-test');
  });

  // Runs after the test above: its answer is among the responses checked for the credential.
  test('credentials: the value typed into the form is in no API response, page or storage', async () => {
    const page = alicePage;
    await nav(page, 'Overview');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.waitForTimeout(2500); // one poll of the live panels, so the charts have data
    await screenshot(page, 'overview');

    await page.goto(`${cp.url}/connections/demo-pg`);
    await page.getByRole('heading', { name: 'demo-pg' }).waitFor();
    const apiResponses = responses.filter((r) => r.url.startsWith(`${cp.url}/api/`));
    assert.ok(
      apiResponses.some((r) => r.url.includes('/connections')),
      'connection responses were recorded',
    );
    const leaks = responses.filter((r) => r.body.includes(credential)).map((r) => r.url);
    assert.deepEqual(leaks, []);
    assert.ok(!(await page.content()).includes(credential), 'credential in the page');
    const storage = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    assert.ok(!storage.includes(credential), 'credential in browser storage');
    assert.ok(!cp.process.output.includes(credential), 'credential in the control plane log');
    assert.ok(!agent.process.output.includes(credential), 'credential in the agent log');
  });
});
