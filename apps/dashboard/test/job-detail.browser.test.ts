/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard's job pages in a real Chromium against a real stack (API, worker, simulator,
 * Postgres, Redis): an image rendered, a video played, a failed job retried to success, live
 * progress of a running video, and a webhook redelivered.
 */
import { TestStack, type Project } from '@genqueue/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertDashboardBuilt, eventually, launchBrowser, newContext, screenshot, signIn } from './helpers/browser';
import { recordWebm } from './helpers/record-webm';
import { UpstreamProxy } from './helpers/upstream-proxy';
import { WebhookReceiver } from './helpers/webhook-receiver';

jest.setTimeout(120_000);

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let project: Project;
let proxy: UpstreamProxy;
let hooks: WebhookReceiver;

beforeAll(async () => {
  assertDashboardBuilt();
  browser = await launchBrowser();
  [proxy, hooks] = await Promise.all([UpstreamProxy.start(), WebhookReceiver.start()]);
  proxy.videoBytes = await recordWebm(browser);
  stack = await TestStack.start({ env: { UPSTREAM_BASE_URL: proxy.url, TASK_POLL_MIN_MS: '150', TASK_POLL_MAX_MS: '400' } });
  proxy.target = stack.simulatorUrl;
  project = await stack.createProject();
  context = await newContext(browser, stack.apiUrl);
  page = await context.newPage();
  await signIn(page, stack.adminKey);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
  await proxy?.stop();
  await hooks?.stop();
});

async function openJob(jobId: string): Promise<void> {
  await page.goto(`/admin/jobs/${jobId}`);
  await page.locator('[data-testid="timeline"]').waitFor();
}

async function statusOfPage(): Promise<string | null> {
  return page.locator('[data-job-status]').getAttribute('data-job-status');
}

test('a succeeded image job, opened from the list, shows its image rendered', async () => {
  const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a lighthouse on a cliff at dusk', n: 2 } });
  expect(job.status).toBe('succeeded');

  await page.goto('/admin/jobs?type=image.generate');
  await page.locator(`tr[data-job-id="${job.id}"] a.job-link`).click();
  await page.waitForURL(`**/admin/jobs/${job.id}`);
  const images = page.locator('.image-grid img');
  await images.first().waitFor();
  expect(await images.count()).toBe(2);
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.image-grid img')].every((img) => img.complete && img.naturalWidth > 0));
  const sizes = await images.evaluateAll((els) => els.map((el) => (el as HTMLImageElement).naturalWidth));
  expect(sizes.every((w) => w > 0)).toBe(true);
  await screenshot(page, 'job-image');
});

test('a video artifact plays in the job page', async () => {
  const job = await stack.runJob(project.key, { type: 'video.generate', input: { prompt: 'a paper boat drifting down a rainy street', seconds: '4' } });
  expect(job.status).toBe('succeeded');
  expect(proxy.videoContentRequests).toBeGreaterThan(0);

  await openJob(job.id);
  const video = page.locator('.media-tile video');
  await video.waitFor();
  await video.evaluate(async (el) => {
    const v = el as HTMLVideoElement;
    v.muted = true;
    await v.play();
  });
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('.media-tile video');
    return Boolean(v && v.readyState >= 2 && v.currentTime > 0);
  });
  const state = await video.evaluate((el) => ({ readyState: (el as HTMLVideoElement).readyState, width: (el as HTMLVideoElement).videoWidth }));
  expect(state.readyState).toBeGreaterThanOrEqual(2);
  expect(state.width).toBe(320);
  await video.evaluate((el) => (el as HTMLVideoElement).pause());
  await screenshot(page, 'job-video');
});

test('a failed job shows why, and Retry runs it again to success', async () => {
  // the gateway refuses the next image request once (a non-retryable rejection)
  const fault = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'rejected', times: 1 } });
  expect(fault.status).toBeLessThan(300);
  const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a harbour crane in fog' } });
  expect(job.status).toBe('failed');

  await openJob(job.id);
  await page.locator('[data-testid="job-error"]').waitFor();
  expect(await page.locator('[data-testid="job-error"]').innerText()).toContain(job.error.code);
  await page.getByRole('button', { name: 'Retry', exact: true }).click();
  await page.locator('[data-job-status="succeeded"]').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('.image-grid img');
    return Boolean(img && img.complete && img.naturalWidth > 0);
  });
  // the failed run stays on record
  await page.locator('[data-testid="attempts"] tbody tr').first().waitFor();
  expect(await page.locator('[data-testid="attempts"]').innerText()).toMatch(/failed/);
  expect(await page.locator('[data-testid="timeline"] [data-event-type="job.retried"]').count()).toBe(1);
  await screenshot(page, 'job-retried');
  const after = await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key });
  expect(after.body.status).toBe('succeeded');
});

test("a running video job's progress moves on the page without a reload", async () => {
  // about twenty real seconds of upstream run time in fast time (the test cancels it when done)
  await stack.sim.post('/_sim/tasks/config', { body: { video_duration_ms: 1_200_000 } });
  const created = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'video.generate', input: { prompt: 'a slow sunrise over the dunes', seconds: '8' } } });
  expect(created.status).toBe(202);
  const jobId: string = created.body.id;

  // the jobs list does not poll: its row moves only through the admin event stream
  await page.goto('/admin/jobs?type=video.generate');
  const badge = page.locator(`tr[data-job-id="${jobId}"] .badge-progress`);
  const readBadge = async () => ((await badge.count()) === 0 ? 0 : Number((await badge.innerText()).replace('%', '')));
  const listed = await eventually(readBadge, (p) => p > 0 && p < 90, 'the row to show progress');
  await eventually(readBadge, (p) => p > listed, `the row's progress beyond ${listed}%`);

  await page.locator(`tr[data-job-id="${jobId}"] a.job-link`).click();
  await page.locator('[data-testid="timeline"]').waitFor();
  // the page listens to the admin event stream (cookie auth), with polling only as a backstop
  await page.locator('[data-testid="live-progress"] .live-live').waitFor();
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  const progress = page.locator('[data-testid="progress-value"]');
  const readProgress = async () => Number((await progress.innerText()).replace('%', ''));
  const first = await eventually(readProgress, (p) => p > 0 && p < 90, 'progress above 0 on the page');
  const later = await eventually(readProgress, (p) => p > first, `progress beyond ${first}% on the page`);
  expect(later).toBeGreaterThan(first);
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  expect(await statusOfPage()).toBe('running');
  await screenshot(page, 'job-progress');
  await stack.api.post(`/v1/jobs/${jobId}/cancel`, { key: project.key });
});

test('a Midjourney button submits the follow-up mj.action and links to the new job', async () => {
  const job = await stack.runJob(project.key, { type: 'mj.imagine', input: { prompt: 'a castle in the clouds' } });
  expect(job.status).toBe('succeeded');
  const button = job.output.buttons.find((b: { custom_id: string }) => b.custom_id.includes('upsample::1')) ?? job.output.buttons[0];

  await openJob(job.id);
  await page.locator('.mj-buttons').getByRole('button', { name: button.label || undefined, exact: true }).first().click();
  const link = page.locator('.mj-buttons .banner-success a');
  await link.waitFor();
  const childId = (await link.innerText()).trim();
  await link.click();
  await page.waitForURL(`**/admin/jobs/${childId}`);
  await page.locator('[data-job-status="succeeded"]').waitFor({ timeout: 30_000 });
  expect(await page.getByRole('link', { name: job.id }).count()).toBe(1);
  const child = await stack.api.get(`/v1/jobs/${childId}`, { key: project.key });
  expect(child.body.type).toBe('mj.action');
  expect(child.body.input).toEqual({ job_id: job.id, custom_id: button.custom_id });
  await screenshot(page, 'job-mj-action');
});

test('a webhook delivery is redelivered and its new attempt appears', async () => {
  const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a kite over a green hill' }, webhook_url: hooks.url });
  expect(job.status).toBe('succeeded');
  const deliveries = await eventually(
    async () => (await stack.api.get(`/admin/v1/webhook-deliveries?job_id=${job.id}&event_type=job.succeeded`, { key: stack.adminKey })).body.data as Array<{ id: string; status: string }>,
    (data) => data.length === 1 && data[0]!.status === 'succeeded',
    'the job.succeeded delivery to succeed',
  );
  const deliveryId = deliveries[0]!.id;
  const receivedBefore = hooks.received.length;

  await page.goto('/admin/webhooks?event_type=job.succeeded');
  const row = page.locator(`tr[data-delivery-id="${deliveryId}"]`);
  await row.waitFor();
  expect(await row.locator('[data-testid="attempt-count"]').innerText()).toBe('1');
  await row.getByRole('button', { name: 'Redeliver' }).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-delivery-id="${id}"] [data-testid="attempt-count"]`)?.textContent === '2', deliveryId);
  const attempts = page.locator('[data-testid="delivery-attempts"] tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-attempts"] tbody tr').length === 2);
  expect(await attempts.nth(1).innerText()).toContain('200');
  expect(hooks.received.length).toBeGreaterThan(receivedBefore);
  const ids = hooks.received.filter((h) => h.body.includes(job.id) && h.body.includes('job.succeeded')).map((h) => h.headers['webhook-id']);
  expect(new Set(ids).size).toBe(1);
  expect(ids.length).toBe(2);
  await screenshot(page, 'webhook-redeliver');
});
