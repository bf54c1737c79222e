/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The cost ledger in the dashboard, in a real Chromium against a real stack: the overview's spend
 * per day and per project, and a job's cost on its page, both showing what the jobs this test made
 * were charged.
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
let studio: Project;
const jobs: Record<string, { id: string; status: string }> = {};
/** ledger units of each job, read from the API once the worker has recorded them */
const unitsOf: Record<string, number> = {};

async function ledgerUnits(jobId: string, entries: number): Promise<number> {
  const body = await eventually(
    async () => (await stack.api.get(`/admin/v1/usage/jobs/${jobId}`, { key: stack.adminKey })).body,
    (b: any) => Array.isArray(b?.data) && b.data.length >= entries,
    `${entries} ledger entries of ${jobId}`,
  );
  return body.units as number;
}

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchBrowser();
  stack = await TestStack.start({ env: { TASK_POLL_MIN_MS: '150', TASK_POLL_MAX_MS: '400', GATEWAY_BALANCE_MIN_GAP_MS: '0' } });
  [shop, studio] = await Promise.all([stack.createProject(), stack.createProject()]);
  const [image, video, imagine, failedVideo] = await Promise.all([
    stack.runJob(shop.key, { type: 'image.generate', input: { prompt: 'a lighthouse at dusk, oil painting' } }),
    stack.runJob(shop.key, { type: 'video.generate', input: { prompt: 'waves on a pebble beach', model: 'sora-2', seconds: '8' } }),
    stack.runJob(studio.key, { type: 'mj.imagine', input: { prompt: 'a paper lantern festival' } }),
    stack.runJob(studio.key, { type: 'video.generate', input: { prompt: 'a storm at sea sim:fail', model: 'sora-2', seconds: '4' } }),
  ]);
  Object.assign(jobs, { image, video, imagine, failedVideo });
  unitsOf['image'] = await ledgerUnits(image.id, 1);
  unitsOf['video'] = await ledgerUnits(video.id, 1);
  unitsOf['imagine'] = await ledgerUnits(imagine.id, 1);
  unitsOf['failedVideo'] = await ledgerUnits(failedVideo.id, 2);
  context = await newContext(browser, stack.apiUrl);
  page = await context.newPage();
  await signIn(page, stack.adminKey);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

test('the overview shows the spend per day and per project of the jobs made here', async () => {
  expect(jobs.failedVideo?.status).toBe('failed');
  // the jobs' own charges: 8 s of sora-2 at US$0.10/s, one imagine at US$0.05, the image by its tokens, the failed video refunded
  expect(unitsOf['video']).toBe(400_000);
  expect(unitsOf['imagine']).toBe(25_000);
  expect(unitsOf['failedVideo']).toBe(0);
  expect(unitsOf['image']).toBeGreaterThan(0);
  const shopUsd = ((unitsOf['image'] ?? 0) + (unitsOf['video'] ?? 0)) / 500_000;
  const studioUsd = ((unitsOf['imagine'] ?? 0) + (unitsOf['failedVideo'] ?? 0)) / 500_000;

  await page.goto('/admin/');
  const total = page.locator('[data-testid="spend-total"]');
  await total.waitFor();
  await eventually(async () => Number(await total.getAttribute('data-usd')), (v) => Math.abs(v - (shopUsd + studioUsd)) < 1e-9, 'the spend total');
  expect((await total.innerText()).trim()).toBe(`$${(shopUsd + studioUsd).toFixed(4)}`.replace(/0{1,2}$/, ''));

  const row = (project: Project) => page.locator(`[data-testid="spend-projects"] tr[data-project-id="${project.id}"]`);
  expect(Number(await row(shop).getAttribute('data-usd'))).toBeCloseTo(shopUsd, 9);
  expect(Number(await row(studio).getAttribute('data-usd'))).toBeCloseTo(studioUsd, 9);
  // the biggest spender first; the studio's refund shows
  expect(await page.locator('[data-testid="spend-projects"] tbody tr').first().getAttribute('data-project-id')).toBe(shop.id);
  expect(await row(studio).locator('td.num').nth(2).innerText()).toBe('$0.40');

  // today's bar carries the whole amount, split by project
  const today = new Date().toISOString().slice(0, 10);
  const bar = page.locator(`[data-testid="spend-chart"] g[data-day="${today}"]`);
  expect(Number(await bar.getAttribute('data-usd'))).toBeCloseTo(shopUsd + studioUsd, 6);
  expect(await bar.locator('rect.spend-seg').count()).toBe(2);
  await bar.hover();
  await eventually(async () => page.locator('[data-card="spend"] .chart-readout').innerText(), (t) => t.includes(today), 'the hover readout');

  await page.locator('[data-card="spend"]').scrollIntoViewIfNeeded();
  await screenshot(page, 'overview-spend');
});

test('a job’s page shows its cost: the charge, and for a failed task the refund', async () => {
  await page.goto(`/admin/jobs/${jobs.video?.id}`);
  const cost = page.locator('[data-testid="job-cost"]');
  await cost.waitFor();
  expect(Number(await cost.getAttribute('data-units'))).toBe(400_000);
  expect(await cost.locator('.balance-value').innerText()).toBe('$0.80');
  expect(await cost.locator('li[data-source="billing_header"]').count()).toBe(1);

  await page.goto(`/admin/jobs/${jobs.failedVideo?.id}`);
  await cost.waitFor();
  expect(Number(await cost.getAttribute('data-units'))).toBe(0);
  expect(await cost.locator('li[data-cost-kind="charge"]').innerText()).toContain('$0.40');
  expect(await cost.locator('li[data-cost-kind="refund"]').innerText()).toContain('-$0.40');
  await page.locator('[data-card="cost"]').scrollIntoViewIfNeeded();
  await screenshot(page, 'job-cost');
});
