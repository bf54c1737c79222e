import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler, type Response } from 'express';

/** Paths below /admin that are not the dashboard's (their own routers answer them, or 404). */
const NOT_DASHBOARD = /^\/(v1|session|queues)(\/|$)/;

/**
 * The dashboard's pages get a strict policy: only its own scripts, styles inline (React sets
 * style attributes), media from the API and from blob:/data: previews, no framing.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every admin page carries; `csp` differs for bull-board's pages. */
export function pageSecurityHeaders(csp: string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  };
}

const DASHBOARD_PACKAGE = path.join('apps', 'dashboard', 'package.json');

/** Where the built dashboard is: DASHBOARD_DIR, or apps/dashboard/dist of the repository this file is in. */
export function dashboardDir(configured: string | undefined, from: string = __dirname): string {
  if (configured) return path.resolve(configured);
  for (let dir = from; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, DASHBOARD_PACKAGE))) return path.join(dir, 'apps', 'dashboard', 'dist');
  }
  // no repository around us (an unusual install): the missing-build page says what to do
  return path.resolve('apps', 'dashboard', 'dist');
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genqueue: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>This API serves the admin dashboard from its build, which is missing. Build it with</p>
<pre>npm run build:dashboard</pre>
<p>then reload this page. The admin API (<code>/admin/v1</code>) works without it.</p>
</body></html>`;

function sendIndex(dir: string, res: Response): void {
  const index = path.join(dir, 'index.html');
  // Looked up on every request, so a build made after start is served without a restart.
  if (!existsSync(index)) {
    res.status(503).setHeader('Cache-Control', 'no-store').type('html').send(NOT_BUILT_PAGE);
    return;
  }
  // The page names the hashed assets of one build: it must never be cached past a deploy.
  res.setHeader('Cache-Control', 'no-cache');
  res.sendFile(index);
}

/**
 * `/admin` and its client routes (`/admin/jobs/…`) answer the dashboard's index.html; its hashed
 * files under `/admin/assets` are cached for a year. Mounted at /admin after the API's own routes.
 */
export function dashboardRoutes(configuredDir: string | undefined): Router {
  const dir = dashboardDir(configuredDir);
  const router = Router();
  router.use((req, _res, next) => {
    // the API's paths under /admin fall through to the 404 of the API, never to index.html
    if (NOT_DASHBOARD.test(req.path)) return next('router');
    next();
  });
  router.use(pageSecurityHeaders(DASHBOARD_CSP));
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
  );
  // other files of the build (favicon, …): short cache, and a miss falls through to the client routes
  router.use(
    express.static(dir, {
      index: false,
      maxAge: '1h',
      setHeaders: (res, file) => {
        if (path.basename(file) === 'index.html') res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  router.get(/.*/, (_req, res) => sendIndex(dir, res));
  return router;
}
