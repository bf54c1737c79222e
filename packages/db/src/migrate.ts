import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MIGRATE_SCRIPT = join('scripts', 'migrate.mjs');

/** The repository root: the nearest ancestor of this file holding scripts/migrate.mjs. */
export function findRepoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, MIGRATE_SCRIPT)) && existsSync(join(dir, 'prisma', 'schema.prisma'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find ${MIGRATE_SCRIPT} above ${from}`);
  }
}

/**
 * Creates the database if needed and applies prisma/migrations, safe to call from several
 * processes at once (the script holds an advisory lock). The schema engine is WASM and needs its
 * own Node flag, hence a child process. Rejects with the script's one-line reason.
 */
export function migrateDatabase(databaseUrl: string): Promise<void> {
  const root = findRepoRoot();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--experimental-wasm-modules', join(root, MIGRATE_SCRIPT), 'apply', '--url', databaseUrl],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const reason = stderr.trim().replace(/^migrate: /gm, '') || (signal ? `killed by ${signal}` : `exit code ${code}`);
      reject(new Error(`database migration failed: ${reason}`));
    });
  });
}
