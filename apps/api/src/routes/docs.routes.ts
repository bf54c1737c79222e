import path from 'node:path';
import { Router } from 'express';
import { AppError } from '@genqueue/core';
import { pageSecurityHeaders } from './dashboard.routes';

/** The files of the installed swagger-ui-dist package the page loads; nothing else of it is served. */
export const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png', 'init.js'] as const;

/** Only this origin: the page, its scripts and styles, and /openapi.json; Swagger UI's icons are data: images. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>genqueue API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** No inline script under this policy: the page's own set-up is a file of its own. */
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

/** Where npm installed swagger-ui-dist (a dependency of the API; no CDN). */
const distDir = (): string => path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** `/docs`: Swagger UI over `/openapi.json`, every asset from the installed package. */
export function docsRoutes(): Router {
  const dir = distDir();
  const router = Router();
  router.use(pageSecurityHeaders(DOCS_CSP));
  router.get('/', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(PAGE);
  });
  router.get('/:asset', (req, res) => {
    const asset = String(req.params['asset']);
    if (!(DOCS_ASSETS as readonly string[]).includes(asset)) throw new AppError('not_found', `No such file ${asset}`);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (asset === 'init.js') {
      res.type('js').send(INIT);
      return;
    }
    res.sendFile(path.join(dir, asset));
  });
  return router;
}
