// Database migrations without Prisma's native engine download: the WASM schema engine, run through
// the pg driver adapter. Records go to `_prisma_migrations`, as with `prisma migrate deploy`.
//
//   node --experimental-wasm-modules scripts/migrate.mjs apply        [--url <DATABASE_URL>]
//   node --experimental-wasm-modules scripts/migrate.mjs check        [--url <DATABASE_URL>]
//   node --experimental-wasm-modules scripts/migrate.mjs new <name>   [--url <DATABASE_URL>]
//
// apply  creates the database if missing, then applies prisma/migrations under an advisory lock.
// check  exits 1 and prints the SQL when prisma/migrations does not produce schema.prisma.
// new    writes prisma/migrations/<yyyyMMddHHmmss>_<name>/migration.sql from that same diff.
// check and new replay the migrations in a throwaway `genqueue_shadow_*` database on the server of
// the URL; they never touch the database the URL names. --verbose prints the engine's log.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrateError, databaseName, ensureDatabase, withDatabase, withMigrateLock } from './lib/pg-admin.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = join(repoRoot, 'prisma', 'schema.prisma');
const migrationsDir = join(repoRoot, 'prisma', 'migrations');
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/genqueue';
const LOCK_TIMEOUT_MS = Number(process.env.MIGRATE_LOCK_TIMEOUT_MS ?? 120_000);
const USAGE = 'usage: migrate.mjs apply | check | new <name>  [--url <DATABASE_URL>] [--verbose]';

// The engine imports its .wasm directly; Node 20 warns about that on every run. Drop only that one.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'ExperimentalWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

function parseArgs(argv) {
  const opts = { url: process.env.DATABASE_URL || DEFAULT_URL, verbose: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--url') opts.url = argv[++i] ?? '';
    else if (arg.startsWith('--url=')) opts.url = arg.slice('--url='.length);
    else if (arg === '--verbose') opts.verbose = true;
    else if (arg.startsWith('--')) throw new MigrateError(`Unknown option ${arg}; ${USAGE}.`);
    else opts.positional.push(arg);
  }
  if (!opts.url) throw new MigrateError('--url needs a value.');
  return opts;
}

async function openEngineFor(url, verbose) {
  const { openEngine, loadMigrationsList, engineErrorMessage, NO_FILTERS } = await import('./lib/schema-engine.mjs');
  const schemaText = await readFile(schemaPath, 'utf8');
  const { engine, close } = await openEngine({ url, schemaPath: 'schema.prisma', schemaText, debug: verbose });
  const migrationsList = await loadMigrationsList(migrationsDir);
  const call = async (what, fn) => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof MigrateError ? err : new MigrateError(`${what} failed: ${engineErrorMessage(err)}`);
    }
  };
  return { engine, close, migrationsList, schemaText, filters: NO_FILTERS, call };
}

async function apply({ url, verbose }) {
  const name = databaseName(url);
  if (await ensureDatabase(url)) console.log(`migrate: created database ${name}`);
  await withMigrateLock(url, LOCK_TIMEOUT_MS, async () => {
    const { engine, close, migrationsList, filters, call } = await openEngineFor(url, verbose);
    try {
      const { appliedMigrationNames } = await call('Applying migrations', () =>
        engine.applyMigrations({ migrationsList, filters }),
      );
      for (const migration of appliedMigrationNames) console.log(`migrate: applied ${migration}`);
      if (appliedMigrationNames.length === 0) {
        console.log(`migrate: ${name} is up to date (${migrationsList.migrationDirectories.length} migrations)`);
      }
    } finally {
      await close();
    }
  });
}

/** SQL that turns the state of prisma/migrations into schema.prisma; '' when they agree. */
async function diffMigrationsToSchema({ url, verbose }) {
  // Only the server matters here: the engine's main connection goes to the maintenance database.
  const { engine, close, migrationsList, schemaText, filters, call } = await openEngineFor(withDatabase(url, 'postgres'), verbose);
  try {
    const from =
      migrationsList.migrationDirectories.length > 0 ? { tag: 'migrations', ...migrationsList } : { tag: 'empty' };
    const to = { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schemaText }] };
    const result = await call('Diffing prisma/migrations against schema.prisma', () =>
      engine.diff({ from, to, script: true, exitCode: true, filters }),
    );
    // exitCode 2 means "the diff is not empty" (the --exit-code convention of `prisma migrate diff`).
    return result.exitCode === 2 ? (result.stdout ?? '').trim() : '';
  } finally {
    await close();
  }
}

async function check(opts) {
  const sql = await diffMigrationsToSchema(opts);
  if (!sql) {
    console.log('migrate: prisma/migrations matches schema.prisma');
    return 0;
  }
  console.log(sql);
  console.error('migrate: schema.prisma differs from prisma/migrations (SQL above); run `npm run db:new-migration -- <name>`.');
  return 1;
}

function timestamp(date = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

async function newMigration(opts) {
  const [rawName, ...extra] = opts.positional;
  if (!rawName || extra.length > 0) throw new MigrateError(`new takes exactly one name; ${USAGE}.`);
  const name = rawName.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) throw new MigrateError(`The migration name "${rawName}" has no letters or digits.`);

  const sql = await diffMigrationsToSchema(opts);
  if (!sql) throw new MigrateError('schema.prisma already matches prisma/migrations; no migration written.');

  const dir = join(migrationsDir, `${timestamp()}_${name}`);
  if (existsSync(dir)) throw new MigrateError(`${relative(repoRoot, dir)} already exists.`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'migration.sql'), `${sql}\n`);
  const { LOCKFILE_NAME, LOCKFILE_CONTENT } = await import('./lib/schema-engine.mjs');
  const lockfile = join(migrationsDir, LOCKFILE_NAME);
  if (!existsSync(lockfile)) await writeFile(lockfile, LOCKFILE_CONTENT);
  console.log(`migrate: wrote ${relative(repoRoot, join(dir, 'migration.sql'))}`);
  return 0;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const command = opts.positional.shift();
  switch (command) {
    case 'apply':
      if (opts.positional.length > 0) throw new MigrateError(`apply takes no arguments; ${USAGE}.`);
      await apply(opts);
      return 0;
    case 'check':
      if (opts.positional.length > 0) throw new MigrateError(`check takes no arguments; ${USAGE}.`);
      return check(opts);
    case 'new':
      return newMigration(opts);
    default:
      throw new MigrateError(command ? `Unknown command "${command}"; ${USAGE}.` : `${USAGE}.`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const message = err instanceof MigrateError ? err.message : err?.stack ?? String(err);
    console.error(`migrate: ${message}`);
    process.exit(err instanceof MigrateError ? 1 : 2);
  },
);
