import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { repoRoot } from './process.js';

/** Where the tests leave screenshots for review (git-ignored; CI keeps it as an artifact). */
export const artifactsDir = join(repoRoot, 'e2e/artifacts');

/** Debian's chromium: Playwright's own browser download does not work on these machines. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Quiet and offline apart from the pages under test: no updates, sync or QUIC probes.
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface Browser {
  /** A fresh window with its own cookies and storage: one per person. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts Chromium. Playwright gives it a fresh user-data-dir of its own (removed on close), and
 * each page gets its own context, so two people never share a login.
 */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  return {
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

/** Saves a full-page screenshot as e2e/artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Logs in to the console at `consoleUrl` through the dev IdP's own login page, as a person would. */
export async function logIn(page: Page, consoleUrl: string, username: string): Promise<void> {
  await page.goto(`${consoleUrl}/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(username);
  await page.locator('button[type=submit]').click();
  await page.waitForURL((url) => url.origin === consoleUrl && url.pathname !== '/callback', {
    // A loaded CI machine can take a while to run the IdP round trip.
    timeout: 30_000,
  });
}
