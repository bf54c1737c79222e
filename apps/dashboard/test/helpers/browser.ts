/// <reference lib="dom" />
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, '.test-results', 'screenshots');
const DIST_INDEX = path.join(REPO_ROOT, 'apps', 'dashboard', 'dist', 'index.html');
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const VIEWPORT = { width: 1440, height: 900 };

/** The built dashboard must exist: the API serves apps/dashboard/dist (built by `npm install` / `npm ci`). */
export function assertDashboardBuilt(): void {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(`The dashboard is not built: ${DIST_INDEX} is missing. Run \`npm run build:dashboard\` (npm install / npm ci run it too).`);
  }
}

/**
 * Debian's chromium through playwright-core (no browser download). Under CI a browser that cannot
 * start fails the suite; elsewhere too, with the command that installs it.
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  } catch (err) {
    const hint = existsSync(CHROMIUM_PATH) ? '' : ` (${CHROMIUM_PATH} is missing: apt-get install -y chromium)`;
    throw new Error(`Chromium could not start${hint}${process.env['CI'] ? ' [CI: the browser suite must run]' : ''}: ${(err as Error).message}`);
  }
}

export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: VIEWPORT, deviceScaleFactor: 1, timezoneId: 'Europe/Berlin', locale: 'en-GB', colorScheme: 'light' });
  context.setDefaultTimeout(15_000);
  return context;
}

export async function signIn(page: Page, adminKey: string, next = '/admin/'): Promise<void> {
  await page.goto(next);
  await page.waitForURL(/\/admin\/login/);
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/admin/login'));
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Polls `read` until `accept` holds (no sleeps as synchronisation: each round is a fresh read). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 20_000, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
