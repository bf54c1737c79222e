// Generates the Prisma client into packages/db/src/generated/prisma (gitignored).
// Run by the root `postinstall` and by `npm run db:generate`.
//
// `prisma generate` does not use the schema engine, but the CLI still insists on downloading it,
// which fails offline. Pointing PRISMA_SCHEMA_ENGINE_BINARY at a no-op executable skips that.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = join(repoRoot, 'prisma', 'schema.prisma');
const require = createRequire(join(repoRoot, 'package.json'));

let prismaCli;
try {
  const prismaPkg = require.resolve('prisma/package.json');
  prismaCli = join(dirname(prismaPkg), require(prismaPkg).bin.prisma);
} catch {
  // A production install (--omit=dev) has no Prisma CLI; the client must come from the build stage.
  console.warn('prisma-generate: the prisma CLI is not installed (dev dependency); client not generated.');
  process.exit(0);
}

const engineDir = mkdtempSync(join(tmpdir(), 'genqueue-prisma-'));
const noopEngine = join(engineDir, 'schema-engine');
writeFileSync(noopEngine, '#!/bin/sh\nexit 0\n');
chmodSync(noopEngine, 0o755);

let result;
try {
  result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: noopEngine,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1', // no telemetry call home (it would only time out here)
    },
  });
} finally {
  rmSync(engineDir, { recursive: true, force: true });
}

if (result.error || result.status !== 0) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  console.error(`prisma-generate: prisma generate failed${result.error ? `: ${result.error.message}` : ''}`);
  process.exit(result.status || 1);
}
console.log('prisma-generate: client generated in packages/db/src/generated/prisma');
