const { launchBrowser, newContext, signIn } = require('/work/main/apps/dashboard/test/helpers/browser');
(async () => {
  const [base, key] = process.argv.slice(2);
  const browser = await launchBrowser();
  const context = await newContext(browser, base);
  const page = await context.newPage();
  page.on('console', (m: any) => m.type() === 'error' && console.log(page.url(), 'console:', m.text().slice(0, 600)));
  page.on('response', (r: any) => r.status() >= 400 && console.log('HTTP', r.status(), r.url()));
  page.on('pageerror', (e: any) => console.log(page.url(), 'pageerror:', e.message.slice(0, 800)));
  await signIn(page, key);
  for (const p of ['/admin/jobs', '/admin/projects', '/admin/webhooks']) { await page.goto(p); await page.waitForTimeout(1500); }
  await page.goto('/admin/projects'); await page.locator('[data-project-id] a').first().click(); await page.waitForTimeout(1500);
  await browser.close();
})();
