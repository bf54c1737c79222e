// Bundles each process entry (API, worker, simulator) into dist/<name>.js: plain JavaScript that
// `NODE_ENV=production npm start` and the image run with node, without compiling TypeScript at run
// time. Workspace packages (@genqueue/*) go into the bundle; every other package stays in
// node_modules (Prisma's runtime and its WASM load from there as they do under tsx).
// Run by the root `postinstall` (after the Prisma client is generated) and by `npm run build:processes`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

let esbuild;
try {
  // esbuild comes with tsx (a dependency): no extra install
  esbuild = require(require.resolve('esbuild', { paths: [dirname(require.resolve('tsx/package.json'))] }));
} catch {
  console.warn('build-processes: esbuild is not installed; dist/ was not built (npm start runs the TypeScript sources).');
  process.exit(0);
}

export const ENTRIES = {
  api: 'apps/api/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  simulator: 'apps/simulator/src/main.ts',
};

/** Bare imports stay external, except our own workspace packages, which are TypeScript sources. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@genqueue/') || args.path.startsWith('node:')) return undefined;
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path, external: true };
    });
  },
};

const started = Date.now();
await Promise.all(
  Object.entries(ENTRIES).map(([name, entry]) =>
    esbuild.build({
      entryPoints: [join(root, entry)],
      outfile: join(root, 'dist', `${name}.js`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'linked',
      // stack traces keep our function and class names (logs, error reports)
      keepNames: true,
      plugins: [externalPackages],
      logLevel: 'warning',
      absWorkingDir: root,
    }),
  ),
);
console.log(`build-processes: built dist/{${Object.keys(ENTRIES).join(',')}}.js in ${Date.now() - started} ms`);
