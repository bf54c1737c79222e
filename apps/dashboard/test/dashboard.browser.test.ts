/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real Chromium against a real stack: sign-in (and a wrong key), the overview's
 * numbers, job filters and search, a bulk cancel of a filtered selection, and API keys.
 */
import { TestStack, type Project } from '@genqueue/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertDashboardBuilt, eventually, launchBrowser, newContext, screenshot, signIn } from './helpers/browser';

jest.setTimeout(120_000);

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shop: Project;
const jobs: Record<string, { id: string; status: string }> = {};

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchBrowser();
  stack = await TestStack.start({ env: { TASK_POLL_MIN_MS: '150', TASK_POLL_MAX_MS: '400' } });
  shop = await stack.createProject();
  const [lighthouse, fox, whale, speech, banned] = await Promise.all([
    stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'a lighthouse at dusk, oil painting' }, metadata: { order: 'A-1001' } }),
    stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'A red fox running through Snow' }, metadata: { order: 'A-1002' } }),
    stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'a blue whale singing under the ice' } }),
    stack.runJob(shop.key, { type: 'audio.speech', input: { input: 'Your order has shipped.', voice: 'alloy', response_format: 'wav' } }),
    // the simulator refuses banned words: a failed job
    stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'a forbidden picture' } }),
  ]);
  Object.assign(jobs, { lighthouse, fox, whale, speech, banned });
  context = await newContext(browser, stack.apiUrl);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.apiUrl });
  page = await context.newPage();
  await signIn(page, stack.adminKey);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

/** Statuses of the listed rows; none while the table still shows the previous filter's rows. */
async function rowStatuses(p: Page = page): Promise<string[] | null> {
  return p.evaluate(() => {
    if (!document.querySelector('[data-testid="jobs-table"]:not([aria-busy="true"])') && !document.querySelector('.empty')) return null;
    return [...document.querySelectorAll('tr[data-job-id]')].map((r) => r.getAttribute('data-status') ?? '');
  });
}

async function waitRows(expected: (statuses: string[]) => boolean, what: string, p: Page = page): Promise<string[]> {
  return (await eventually(() => rowStatuses(p), (s) => s !== null && expected(s), what)) as string[];
}

test('sign-in: a wrong key gets a clear message; the right key opens the dashboard; sign-out ends the session', async () => {
  expect(jobs.banned?.status).toBe('failed');
  const fresh = await newContext(browser, stack.apiUrl);
  try {
    const p = await fresh.newPage();
    await p.goto('/admin/jobs?status=failed');
    await p.waitForURL(/\/admin\/login\?next=/);
    await p.getByLabel('Admin key').fill('gqa_not_the_right_key');
    await p.getByLabel('Admin key').press('Enter');
    const error = p.locator('[data-testid="login-error"]');
    await error.waitFor();
    expect(await error.innerText()).toContain('not valid');
    await screenshot(p, 'sign-in-wrong-key');

    await p.getByLabel('Admin key').fill(stack.adminKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    // back where the visitor was going, filters and all
    await p.waitForURL(/\/admin\/jobs\?status=failed/);
    await waitRowsOn(p, 1);
    const cookies = await fresh.cookies();
    const session = cookies.find((c) => c.name === 'gq_admin_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    const stored = await p.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain(stack.adminKey);
    await screenshot(p, 'sign-in');

    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL(/\/admin\/login/);
    await p.getByText('You are signed out').waitFor();
    const status = await p.evaluate(async () => (await fetch('/admin/v1/stats')).status);
    expect(status).toBe(401);
  } finally {
    await fresh.close();
  }
});

async function waitRowsOn(p: Page, count: number): Promise<void> {
  await waitRows((s) => s.length === count, `${count} job rows`, p);
}

test('the overview shows the real numbers of the history', async () => {
  await page.goto('/admin/');
  const tile = (status: string) => page.locator(`[data-testid="count-${status}"] .tile-value, [data-testid="count-${status}"].tile-value`).first();
  await eventually(async () => (await tile('succeeded').innerText()).trim(), (v) => v === '4', 'succeeded = 4');
  expect((await tile('failed').innerText()).trim()).toBe('1');
  expect((await page.locator('[data-testid="count-all"]').innerText()).trim()).toBe('5');
  expect((await tile('queued').innerText()).trim()).toBe('0');
  expect((await page.locator('[data-testid="finished-window"]').innerText()).trim()).toBe('5');
  expect((await page.locator('[data-testid="failure-rate"]').innerText()).trim()).toBe('20%');
  const imageRow = page.locator('[data-testid="type-table"] tr', { hasText: 'image.generate' });
  expect(await imageRow.locator('td.num').innerText()).toBe('4');
  const speechRow = page.locator('[data-testid="type-table"] tr', { hasText: 'audio.speech' });
  expect(await speechRow.locator('td.num').innerText()).toBe('1');
  await page.locator('[data-testid="queues-table"] tr[data-queue="image"]').waitFor();
  await page.locator('[data-testid="upstream-models"] .chip').first().waitFor();
  await screenshot(page, 'overview');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('jobs filter by status and type, kept in the URL (back button included)', async () => {
  await page.goto('/admin/jobs');
  await waitRows((s) => s.length === 5, 'the 5 jobs');

  await page.locator('[data-status-filter="failed"]').click();
  await page.waitForURL(/status=failed/);
  await waitRows((s) => s.length === 1 && s[0] === 'failed', 'only the failed job');
  expect(await page.locator(`tr[data-job-id="${jobs.banned!.id}"]`).count()).toBe(1);

  await page.getByLabel('Job type').selectOption('image.generate');
  await page.waitForURL(/type=image\.generate/);
  await waitRows((s) => s.length === 1 && s[0] === 'failed', 'the failed image job');
  await page.locator('[data-status-filter="succeeded"]').click();
  await page.waitForURL((url) => url.searchParams.get('status') === 'succeeded,failed');
  await waitRows((s) => s.length === 4 && s.filter((x) => x === 'succeeded').length === 3, '3 succeeded + 1 failed images');
  // the rows and the count are separate requests: the count says "Counting…" until its own answer
  await page.waitForFunction(() => !document.querySelector('[data-testid="jobs-count"]')?.textContent?.includes('Counting'));
  expect((await page.locator('[data-testid="jobs-count"]').innerText()).trim()).toBe('4 jobs match');

  await page.getByLabel('Job type').selectOption('audio.speech');
  await page.waitForURL((url) => url.searchParams.get('type') === 'audio.speech');
  await waitRows((s) => s.length === 1 && s[0] === 'succeeded', 'the speech job');
  expect(await page.locator(`tr[data-job-id="${jobs.speech!.id}"]`).count()).toBe(1);
  await screenshot(page, 'jobs-filtered');

  await page.goBack();
  await page.waitForURL((url) => url.searchParams.get('type') === 'image.generate');
  await waitRows((s) => s.length === 4, 'the image filter again after Back');
  // a shared link opens the same view
  const other = await context.newPage();
  await other.goto(page.url());
  await waitRowsOn(other, 4);
  await other.close();
});

test('one search box finds jobs by words of the prompt (any case, any order) and by id', async () => {
  await page.goto('/admin/jobs');
  await waitRows((s) => s.length === 5, 'the 5 jobs');
  await page.keyboard.press('/');
  expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-search-box'))).toBe(true);
  await page.keyboard.type('snow FOX');
  await page.waitForURL(/q=snow/);
  await waitRows((s) => s.length === 1, 'one job for "snow FOX"');
  expect(await page.locator(`tr[data-job-id="${jobs.fox!.id}"]`).count()).toBe(1);
  // a relative time range joins the search in the URL
  await page.getByLabel('Time range').selectOption('24h');
  await page.waitForURL((url) => url.searchParams.get('range') === '24h' && url.searchParams.get('q') === 'snow FOX');
  await waitRows((s) => s.length === 1, 'the fox within the last 24 hours');
  await screenshot(page, 'jobs-search');

  await page.locator('[data-search-box]').fill(jobs.whale!.id);
  await page.locator('[data-search-box]').press('Enter');
  await eventually(() => page.locator(`tr[data-job-id="${jobs.whale!.id}"]`).count(), (n) => n === 1, 'the job found by its id');
  await waitRows((s) => s.length === 1, 'only that job');
});

test('bulk-cancel every job matching a filter, with a count, a confirmation and progress', async () => {
  // one running slot: a video that never finishes holds it, three images wait queued behind it
  const limited = await stack.createProject({ max_running_jobs: 1 });
  const holder = await stack.api.post('/v1/jobs', { key: limited.key, body: { type: 'video.generate', input: { prompt: 'sim:timeout a video that holds the slot', seconds: '4' } } });
  await eventually(async () => (await stack.api.get(`/v1/jobs/${holder.body.id}`, { key: limited.key })).body.status, (s) => s === 'running', 'the slot holder to run');
  const queued: string[] = [];
  for (const prompt of ['queued one', 'queued two', 'queued three']) {
    const res = await stack.api.post('/v1/jobs', { key: limited.key, body: { type: 'image.generate', input: { prompt } } });
    queued.push(res.body.id);
  }

  await page.goto(`/admin/jobs?project_id=${limited.id}&status=queued`);
  await waitRows((s) => s.length === 3 && s.every((x) => x === 'queued'), 'the 3 queued jobs');
  await page.locator('[data-testid="select-all-matching"]').click();
  expect((await page.locator('[data-testid="selection-size"]').innerText()).trim()).toBe('3');
  await page.getByRole('button', { name: 'Cancel jobs' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  expect(await dialog.innerText()).toContain('queued');
  await dialog.getByRole('button', { name: 'Cancel 3 jobs' }).click();
  await page.locator('[data-testid="bulk-progress"][data-bulk-status="done"]').waitFor({ timeout: 30_000 });
  expect((await page.locator('[data-testid="bulk-changed"]').innerText()).trim()).toBe('3');
  await waitRows((s) => s.length === 0, 'no queued jobs left in the filter');
  await screenshot(page, 'bulk-cancel');
  for (const id of queued) {
    expect((await stack.api.get(`/v1/jobs/${id}`, { key: limited.key })).body.status).toBe('canceled');
  }
  expect((await stack.api.get(`/v1/jobs/${holder.body.id}`, { key: limited.key })).body.status).toBe('running');
  await stack.api.post(`/v1/jobs/${holder.body.id}/cancel`, { key: limited.key });
});

test('projects & keys: create a key, copy it, revoke it', async () => {
  await page.goto('/admin/projects');
  await page.locator(`tr[data-project-id="${shop.id}"]`).waitFor();
  await screenshot(page, 'projects');
  await page.locator(`tr[data-project-id="${shop.id}"] a`).first().click();
  await page.waitForURL(`**/admin/projects/${shop.id}`);
  await page.locator('[data-testid="keys-table"]').waitFor();

  await page.getByRole('button', { name: '+ New key' }).click();
  await page.getByLabel('Name (optional)').fill('browser test key');
  await page.getByLabel('Name (optional)').press('Enter');
  const value = (await page.locator('[data-testid="new-key-value"]').innerText()).trim();
  expect(value).toMatch(/^gq_/);
  await page.getByRole('button', { name: /^Copy key/ }).click();
  await page.getByRole('button', { name: /Copied/ }).waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
  await screenshot(page, 'key-created');
  expect((await stack.api.get('/v1/jobs', { key: value })).status).toBe(200);

  await page.keyboard.press('Escape');
  const row = page.locator('[data-testid="keys-table"] tr', { hasText: 'browser test key' });
  await row.waitFor();
  expect(await page.locator('[data-testid="new-key-value"]').count()).toBe(0);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke key' }).click();
  await row.locator('[data-testid="key-revoked"]').waitFor();
  expect((await stack.api.get('/v1/jobs', { key: value })).status).toBe(401);
  await screenshot(page, 'key-revoked');
});
