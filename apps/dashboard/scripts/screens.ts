/**
 * Screenshots of every page of a running dashboard, for design review:
 *   npx tsx apps/dashboard/scripts/screens.ts http://127.0.0.1:PORT gqa_… [dark]
 * Saved to .test-results/screenshots/manual-*.png.
 */
import { launchBrowser, newContext, SCREENSHOT_DIR, screenshot, signIn } from '../test/helpers/browser';

async function main(): Promise<void> {
  const [base, key, theme] = process.argv.slice(2);
  if (!base || !key) throw new Error('usage: screens.ts <api url> <admin key> [dark]');
  const browser = await launchBrowser();
  const context = await newContext(browser, base);
  const page = await context.newPage();
  // SCREEN_WIDTH=1024 checks the narrow layout
  const width = Number(process.env['SCREEN_WIDTH'] ?? 1440);
  await page.setViewportSize({ width, height: 900 });
  page.on('console', (m) => m.type() === 'error' && console.log('console:', m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  if (theme === 'dark') await page.emulateMedia({ colorScheme: 'dark' });
  const suffix = `${theme === 'dark' ? '-dark' : ''}${width !== 1440 ? `-${width}` : ''}`;
  await page.goto('/admin/login');
  await screenshot(page, `manual-login${suffix}`);
  await signIn(page, key);
  await page.waitForSelector('[data-testid="status-tiles"]');
  await page.waitForTimeout(1500);
  await screenshot(page, `manual-overview${suffix}`);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/manual-overview-full${suffix}.png`, fullPage: true });
  await page.goto('/admin/jobs');
  await page.waitForSelector('[data-job-id]');
  await page.waitForTimeout(800);
  await screenshot(page, `manual-jobs${suffix}`);
  for (const type of ['image.generate', 'video.generate', 'audio.transcribe', 'embedding.batch', 'mj.imagine']) {
    await page.goto(`/admin/jobs?type=${type}&status=succeeded`);
    const link = page.locator('[data-job-id] a.job-link').first();
    await link.click();
    await page.waitForSelector('[data-testid="timeline"]');
    await page.waitForTimeout(1200);
    await screenshot(page, `manual-job-${type}${suffix}`);
  }
  await page.goto('/admin/jobs?status=failed');
  await page.locator('[data-job-id] a.job-link').first().click();
  await page.waitForSelector('[data-testid="timeline"]');
  await page.waitForTimeout(800);
  await screenshot(page, `manual-job-failed${suffix}`);
  await page.goto('/admin/projects');
  await page.waitForSelector('[data-project-id]');
  await screenshot(page, `manual-projects${suffix}`);
  await page.locator('[data-project-id] a').first().click();
  await page.waitForSelector('[data-testid="keys-table"]');
  await page.waitForTimeout(500);
  await screenshot(page, `manual-project${suffix}`);
  await page.goto('/admin/webhooks');
  await page.waitForSelector('[data-delivery-id]');
  await page.locator('[data-delivery-id]').first().click();
  await page.waitForTimeout(500);
  await screenshot(page, `manual-webhooks${suffix}`);
  await browser.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
