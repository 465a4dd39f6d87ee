/// <reference lib="dom" />
// (page.evaluate bodies run in the browser.)
// Issue 7: the policy editor of the web console, in real Chromium, served by a real control plane,
// logging in through the real dev IdP. A problem shows next to its field and blocks Save; once
// fixed, the draft saves as a new version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, logIn, screenshot, type Browser } from '../lib/browser.js';
import { eventually, freePort } from '../lib/process.js';
import {
  api,
  createDatabase,
  startControlPlane,
  startIdp,
  userToken,
  type ControlPlane,
  type Idp,
} from '../lib/stack.js';

describe('policies and the audit log in the console', () => {
  let idp: Idp;
  let store: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let browser: Browser;
  let page: Page;

  before(async () => {
    // The console must be served from an origin the IdP accepts as a redirect: this test's own.
    const port = await freePort();
    idp = await startIdp({ consoleOrigin: `http://127.0.0.1:${port}` });
    store = await createDatabase('e2e_policy_editor');
    cp = await startControlPlane({ idp, databaseUrl: store.url, port, console: true });
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await cp?.stop();
    await idp?.stop();
    await store?.drop();
  });

  /** What a screen reader announces with a control: the text of its aria-describedby. */
  async function description(control: Locator): Promise<string> {
    const ids = (await control.getAttribute('aria-describedby')) ?? '';
    const texts = await Promise.all(
      ids
        .split(' ')
        .filter(Boolean)
        .map((id) => page.locator(`[id="${id}"]`).textContent()),
    );
    return texts.join(' ');
  }

  test('alice adds a rule, sees "get" refused next to its HTTP methods with Save disabled, fixes it and saves v1', async () => {
    await logIn(page, cp.url, 'alice');
    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    const save = page.getByRole('button', { name: /^Save/ });
    await save.waitFor();

    // The built-in policy has two rules; the new one goes last, then moves up one place.
    await page.getByRole('button', { name: 'Add rule' }).first().click();
    const newRule = page.getByRole('group', { name: 'Rule 3 (rule-3)' });
    await newRule.getByLabel('Id', { exact: true }).fill('api-reads');
    await page.getByRole('button', { name: 'Move Rule 3 (api-reads) up' }).click();
    const rule = page.getByRole('group', { name: 'Rule 2 (api-reads)' });
    await rule.waitFor();

    // HTTP conditions are folded away until asked for.
    await rule.getByRole('button', { name: 'HTTP requests' }).click();
    const methods = rule.getByLabel('HTTP methods');
    const methodsId = (await methods.getAttribute('id'))!;
    await methods.fill('get');
    await page.waitForFunction(
      (id) => document.getElementById(id)?.getAttribute('aria-invalid') === 'true',
      methodsId,
    );
    assert.match(await description(methods), /"get": must be an upper-case HTTP method/);
    assert.equal(await save.isDisabled(), true, 'Save is disabled while the draft has a problem');
    assert.equal(await rule.getByLabel('HTTP paths').getAttribute('aria-invalid'), null, 'only that field is marked');

    // The summary at the top names the field and takes the cursor there.
    const summary = page.getByRole('group', { name: /problem to fix before saving/ });
    const link = summary.getByRole('link', { name: 'Rule 2 (api-reads) › HTTP methods' });
    await link.waitFor();
    await page.getByLabel('Default action').focus();
    await link.click();
    await page.waitForFunction((id) => document.activeElement?.id === id, methodsId);
    await screenshot(page, 'policy-editor-invalid');

    await methods.fill('GET');
    await summary.waitFor({ state: 'detached' });
    assert.equal(await methods.getAttribute('aria-invalid'), null);
    assert.equal(await save.isDisabled(), false, 'Save is enabled once the problem is fixed');

    // Cards are keyed by rule, not by place: a section opened by hand moves with its rule.
    const timeWindow = (card: Locator) => card.getByRole('button', { name: 'Time window' });
    await timeWindow(rule).click();
    assert.equal(await timeWindow(rule).getAttribute('aria-expanded'), 'true');
    await page.getByRole('button', { name: 'Move Rule 2 (api-reads) down' }).click();
    const movedDown = page.getByRole('group', { name: 'Rule 3 (api-reads)' });
    await movedDown.waitFor();
    assert.equal(await timeWindow(movedDown).getAttribute('aria-expanded'), 'true', 'open where its rule went');
    const other = page.getByRole('group', { name: 'Rule 2 (mask-pii)' });
    assert.equal(await timeWindow(other).getAttribute('aria-expanded'), 'false', 'not left open at its old place');
    await page.getByRole('button', { name: 'Move Rule 3 (api-reads) up' }).click();
    await rule.waitFor();
    assert.equal(await timeWindow(rule).getAttribute('aria-expanded'), 'true');

    // Lists take one item a line, so a keyword may hold a comma.
    await rule.getByLabel('Keywords').fill('drop table, truncate\n  ignore previous \n');

    // The JSON view shows the same draft.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const json = JSON.parse(await page.getByLabel('Policy document (JSON)').inputValue()) as {
      rules: Array<{ id: string; description?: string }>;
    };
    assert.deepEqual(
      json.rules.map((r) => r.id),
      ['admins-unmasked', 'api-reads', 'mask-pii'],
    );
    assert.deepEqual(json.rules[1], {
      id: 'api-reads',
      action: 'allow',
      match: { httpMethods: ['GET'], keywords: ['drop table, truncate', 'ignore previous'] },
    });
    // …and what is typed there is in the form.
    Object.assign(json.rules[1]!, { description: 'reads through the API' });
    await page.getByLabel('Policy document (JSON)').fill(JSON.stringify(json, null, 2));
    await page.getByRole('tab', { name: 'Form' }).click();
    assert.equal(await rule.getByLabel('Description').inputValue(), 'reads through the API');
    assert.equal(await rule.getByLabel('Keywords').inputValue(), 'drop table, truncate\nignore previous');

    await save.click();
    await page.getByText(/Saved\./).waitFor();
    const v1 = page.locator('.history-list li', { hasText: 'v1' });
    await v1.waitFor();
    assert.match((await v1.textContent()) ?? '', /v1 · current.*alice/);
    assert.equal(await save.isDisabled(), true, 'nothing left to save');
    await screenshot(page, 'policy-editor-saved');

    const alice = await userToken(idp, 'alice');
    const stored = await api(cp, alice, 'GET', '/api/v1/policies');
    assert.equal(stored.body.version, 1);
    assert.deepEqual(stored.body.policy.rules[1], {
      id: 'api-reads',
      description: 'reads through the API',
      action: 'allow',
      match: { httpMethods: ['GET'], keywords: ['drop table, truncate', 'ignore previous'] },
    });

    // History still compares and rolls back: the new rule is what the editor adds to v0; rolling back to v0 is v2.
    await page.locator('.history-list li', { hasText: 'v0' }).getByRole('button').click();
    await page.locator('.diff-added', { hasText: '"api-reads"' }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Roll back to v0' }).click();
    await page.locator('.history-list li', { hasText: 'rollback to v0' }).waitFor();
    assert.equal(await page.getByRole('group', { name: 'Rule 2 (mask-pii)' }).count(), 1, 'the form shows v0 again');
    assert.equal((await api(cp, alice, 'GET', '/api/v1/policies')).body.version, 2);
  });

  test("the audit log's filter bar (shared with Sessions) narrows the entries to alice's rollback, and clears", async () => {
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    const actions = page.locator('tbody td code');
    await page.getByRole('cell', { name: 'policy.update' }).waitFor();
    await page.getByLabel('Action').fill('policy.rollback');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((url) => url.searchParams.get('action') === 'policy.rollback');
    await eventually(async () => (await actions.allTextContents()).join() === 'policy.rollback', {
      what: 'only the rollback listed',
    });
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('cell', { name: 'policy.update' }).waitFor();
    assert.equal(new URL(page.url()).search, '');
  });
});
