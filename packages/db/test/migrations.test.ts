import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot, migrateDatabase } from '../src/migrate';
import { databaseUrl, dropDatabase, randomDatabaseName, withPg } from './test-databases';

const repoRoot = findRepoRoot();
const migrationNames = readdirSync(join(repoRoot, 'prisma', 'migrations'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const EXPECTED_TABLES = ['_prisma_migrations', 'api_keys', 'artifacts', 'files', 'job_events', 'jobs', 'projects', 'system_settings'];

type MigrationRow = { id: string; migration_name: string; finished_at: Date | null; rolled_back_at: Date | null };

const migrationRows = (url: string): Promise<MigrationRow[]> =>
  withPg(url, async (client) => {
    const { rows } = await client.query<MigrationRow>(
      'SELECT id, migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    return rows;
  });

function runMigrateScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-wasm-modules', join(repoRoot, 'scripts', 'migrate.mjs'), ...args], {
      cwd: repoRoot,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migrateDatabase', () => {
  const created: string[] = [];
  const freshDatabase = (): string => {
    const name = randomDatabaseName('genqueue_test_migrate');
    created.push(name);
    return name;
  };

  afterAll(async () => {
    await Promise.all(created.map(dropDatabase));
  });

  it('creates a missing database and applies every migration, then does nothing on a second run', async () => {
    const url = databaseUrl(freshDatabase());
    await migrateDatabase(url);

    const tables = await withPg(url, async (client) => {
      const { rows } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      return rows.map((row) => row.table_name);
    });
    expect(tables).toEqual(expect.arrayContaining(EXPECTED_TABLES));

    const first = await migrationRows(url);
    expect(first.map((row) => row.migration_name)).toEqual(migrationNames);
    expect(first.every((row) => row.finished_at !== null && row.rolled_back_at === null)).toBe(true);

    await migrateDatabase(url);
    expect(await migrationRows(url)).toEqual(first);
  });

  it('keeps the search trigram index, and drops the unused second one over the prompt', async () => {
    const url = databaseUrl(freshDatabase());
    await migrateDatabase(url);
    const indexes = await withPg(url, async (client) => {
      const { rows } = await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'jobs'");
      return rows.map((row) => row.indexname);
    });
    expect(indexes).toContain('jobs_search_text_trgm');
    expect(indexes).not.toContain('jobs_input_prompt_trgm_idx');
  });

  it('lets several processes migrate the same new database at once', async () => {
    const url = databaseUrl(freshDatabase());
    await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
    const rows = await migrationRows(url);
    expect(rows.map((row) => row.migration_name)).toEqual(migrationNames);
  });

  it('rejects with the reason the script gives', async () => {
    await expect(migrateDatabase('postgresql://postgres@127.0.0.1:1/genqueue_unreachable')).rejects.toThrow(
      /database migration failed: Cannot connect to Postgres at .*127\.0\.0\.1:1/,
    );
  });
});

describe('migrate.mjs check', () => {
  it('finds prisma/migrations in agreement with schema.prisma', async () => {
    const result = await runMigrateScript(['check', '--url', databaseUrl('postgres')]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('matches schema.prisma');
  });
});
