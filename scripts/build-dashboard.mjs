// Builds the admin dashboard (apps/dashboard → dist/) so the API can serve it at /admin.
// Run by the root `postinstall` and by `npm run build:dashboard`.
// A production install without dev dependencies has no Vite: it skips with a warning (the image
// build copies dist/ from its build stage). A real build error fails the install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dashboardDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'dashboard');
const require = createRequire(join(dashboardDir, 'package.json'));

let viteBin;
try {
  const vitePkg = require.resolve('vite/package.json');
  viteBin = join(dirname(vitePkg), require(vitePkg).bin.vite);
} catch {
  console.warn('build-dashboard: vite is not installed (dev dependency); the dashboard was not built.');
  process.exit(0);
}

const result = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: dashboardDir, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build-dashboard: the dashboard build failed (see above).');
  process.exit(result.status ?? 1);
}
console.log('build-dashboard: built apps/dashboard/dist');
