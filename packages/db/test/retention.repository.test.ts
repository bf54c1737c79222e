import { Client } from 'pg';
import { JobsRepository } from '../src/repositories/jobs.repository';
import { ProjectsRepository, type ProjectLimits } from '../src/repositories/projects.repository';
import { RetentionRepository } from '../src/repositories/retention.repository';
import { createPrismaClient } from '../src/client';
import { newJobInput, useMigratedDatabase } from './repository-fixtures';

/** The pruner's claims: per-project retention, SKIP LOCKED (never waits, never takes a row twice), summaries. */
describe('RetentionRepository', () => {
  const prisma = useMigratedDatabase('genqueue_test_retention', 5);
  const jobs = new JobsRepository(prisma, { webhookOutbox: null });
  const projects = new ProjectsRepository(prisma);
  const retention = new RetentionRepository(prisma);
  let seq = 0;

  /** `count` jobs of a new project, finished `daysAgo`. */
  async function finishedJobs(limits: ProjectLimits, count: number, daysAgo: number): Promise<string[]> {
    const project = await projects.create(`retention-${(seq += 1)}`, limits);
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await jobs.create(newJobInput(project.id, null, []))).job.id);
    await prisma.$executeRaw`UPDATE jobs SET status = 'succeeded', started_at = now() - make_interval(days => ${daysAgo}),
      finished_at = now() - make_interval(days => ${daysAgo}) WHERE id = ANY(${ids}::text[])`;
    return ids;
  }

  /** The URL of this test's database (for a second connection or pool, as another process would have). */
  async function ownUrl(): Promise<string> {
    const [row] = await prisma.$queryRaw<{ db: string }[]>`SELECT current_database() AS db`;
    const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/genqueue');
    url.pathname = `/${row!.db}`;
    return url.toString();
  }

  async function prunedOf(ids: string[]): Promise<string[]> {
    const rows = await prisma.$queryRaw<{ id: string }[]>`SELECT id FROM jobs WHERE id = ANY(${ids}::text[]) AND pruned_at IS NOT NULL ORDER BY id`;
    return rows.map((r) => r.id);
  }

  async function pruneAll(repo = retention): Promise<string[]> {
    const taken: string[] = [];
    for (;;) {
      const batch = await repo.pruneJobs({ limit: 2, defaultRetentionDays: 30 });
      if (batch.jobIds.length === 0) return taken;
      taken.push(...batch.jobIds);
    }
  }

  it('takes finished jobs past their project retention (default 30 days), oldest first, in batches of the limit', async () => {
    const old = await finishedJobs({}, 3, 31);
    const recent = await finishedJobs({}, 2, 29);
    const keptLonger = await finishedJobs({ retention_days: 60 }, 2, 45);
    const shortLived = await finishedJobs({ retention_days: 2 }, 2, 3);
    const first = await retention.pruneJobs({ limit: 2, defaultRetentionDays: 30 });
    expect(first.jobIds).toHaveLength(2);
    await pruneAll();
    expect(await prunedOf([...old, ...shortLived])).toEqual([...old, ...shortLived].sort());
    expect(await prunedOf([...recent, ...keptLonger])).toEqual([]);
  });

  it('passes over a job row another transaction holds instead of waiting, and takes it on a later run', async () => {
    const ids = await finishedJobs({}, 3, 40);
    const client = new Client({ connectionString: await ownUrl() });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [ids[0]]);
      const taken = await pruneAll();
      expect(taken.sort()).toEqual([ids[1], ids[2]].sort());
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    expect(await pruneAll()).toEqual([ids[0]]);
  });

  it('two pruners at once never take the same job', async () => {
    const ids = await finishedJobs({}, 12, 50);
    const other = createPrismaClient(await ownUrl(), { poolMax: 3 });
    try {
      const [a, b] = await Promise.all([pruneAll(), pruneAll(new RetentionRepository(other))]);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
      expect([...a, ...b].sort()).toEqual([...ids].sort());
    } finally {
      await other.$disconnect();
    }
  });

  it('keeps a summary: big inputs and outputs cut to their size, worker state dropped, details removed', async () => {
    const [id] = await finishedJobs({}, 1, 40);
    const bigOutput = { text: 'x'.repeat(20_000) };
    await prisma.$executeRaw`UPDATE jobs SET output = ${JSON.stringify(bigOutput)}::jsonb, upstream_state = '{"phase":"done"}'::jsonb WHERE id = ${id}`;
    await prisma.$executeRaw`INSERT INTO job_attempts (id, job_id, attempt, outcome, error) VALUES ('jat_retention_1', ${id}, 1, 'failed', '{}'::jsonb)`;
    const batch = await retention.pruneJobs({ limit: 10, defaultRetentionDays: 30 });
    expect(batch.jobIds).toContain(id);
    expect(batch.attempts).toBeGreaterThanOrEqual(1);
    const [row] = await prisma.$queryRaw<{ input: unknown; output: { truncated?: boolean; bytes?: number }; upstream_state: unknown; status: string }[]>`
      SELECT input, output, upstream_state, status FROM jobs WHERE id = ${id}`;
    expect(row!.output.truncated).toBe(true);
    expect(row!.output.bytes).toBeGreaterThan(20_000);
    expect(row).toMatchObject({ input: { prompt: 'a red fox' }, upstream_state: null, status: 'succeeded' });
  });

  it('claims one run per interval', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(await retention.claimRun('retention_test_run', 60_000, now)).toBe(true);
    expect(await retention.claimRun('retention_test_run', 60_000, new Date(now.getTime() + 30_000))).toBe(false);
    expect(await retention.claimRun('retention_test_run', 60_000, new Date(now.getTime() + 60_000))).toBe(true);
  });
});
