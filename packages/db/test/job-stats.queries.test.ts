import { createPrismaClient } from '../src/client';
import { migrateDatabase } from '../src/migrate';
import type { PrismaClient } from '../src/generated/prisma/client';
import { JobStatsQueries, type JobCountRow } from '../src/repositories/job-stats.queries';
import { JobsRepository, type NewJob } from '../src/repositories/jobs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { newJobInput, useMigratedDatabase } from './repository-fixtures';
import { databaseUrl, dropDatabase, randomDatabaseName } from './test-databases';

/** What counting the jobs table says, in the shape counts() answers. */
async function countedFromJobs(db: PrismaClient): Promise<JobCountRow[]> {
  const rows = await db.$queryRaw<Array<{ projectId: string; type: string; status: string; count: bigint }>>`
    SELECT project_id AS "projectId", type, status, count(*) AS count FROM jobs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}

const ofType = (projectId: string, type: string): NewJob => ({ ...newJobInput(projectId, null, []), type });

/**
 * job_counts kept by the triggers of the admin_dashboard migration, read through JobStatsQueries:
 * exact through every kind of write and through compactions running at once in two processes.
 */
describe('JobStatsQueries.counts', () => {
  const name = randomDatabaseName('genqueue_test_job_stats');
  const url = databaseUrl(name);
  // two processes, each with a pool of its own, both compacting
  const prisma = createPrismaClient(url, { poolMax: 6 });
  const other = createPrismaClient(url, { poolMax: 4 });
  const stats = new JobStatsQueries(prisma);
  const otherStats = new JobStatsQueries(other);
  const jobs = new JobsRepository(prisma, { webhookOutbox: null });
  const projects = new ProjectsRepository(prisma);

  beforeAll(async () => {
    await migrateDatabase(url);
  });

  afterAll(async () => {
    await Promise.all([prisma.$disconnect(), other.$disconnect()]);
    await dropDatabase(name);
  });

  async function expectExact(): Promise<void> {
    expect(await stats.counts()).toEqual(await countedFromJobs(prisma));
  }

  it('counts single and bulk inserts, status changes and deletes exactly, before and after compaction', async () => {
    const a = (await projects.create('stats-a')).id;
    const b = (await projects.create('stats-b')).id;
    const single = await jobs.create(ofType(a, 'image.generate'));
    await jobs.createMany([...Array.from({ length: 30 }, () => ofType(a, 'video.generate')), ...Array.from({ length: 20 }, () => ofType(b, 'audio.speech'))]);
    await expectExact();

    await jobs.transition(single.job.id, 'running');
    await jobs.transition(single.job.id, 'succeeded');
    const videos = await prisma.job.findMany({ where: { projectId: a, type: 'video.generate' }, take: 10 });
    for (const video of videos) await jobs.transition(video.id, 'canceled');
    await expectExact();

    await stats.compactCounts();
    expect(await prisma.jobCountDelta.count()).toBe(0);
    await expectExact();

    // a bulk status change and a delete of several rows in one statement each
    await prisma.job.updateMany({ where: { projectId: b }, data: { status: 'expired' } });
    await prisma.job.deleteMany({ where: { id: { in: videos.slice(0, 4).map((v) => v.id) } } });
    await expectExact();
    await stats.compactCounts();
    await expectExact();
  });

  it('leaves out groups that dropped to zero', async () => {
    const c = (await projects.create('stats-c')).id;
    const job = await jobs.create(ofType(c, 'mj.imagine'));
    await stats.compactCounts();
    await prisma.job.delete({ where: { id: job.job.id } });
    await stats.compactCounts();
    expect((await stats.counts()).filter((row) => row.projectId === c)).toEqual([]);
  });

  it('stays exact while two processes compact at once between concurrent writes', async () => {
    const ids = await Promise.all(['d', 'e', 'f'].map(async (suffix) => (await projects.create(`stats-${suffix}`)).id));
    const types = ['image.generate', 'video.generate', 'audio.speech', 'embedding.batch'];
    for (let round = 0; round < 15; round++) {
      const writes = ids.map((projectId, i) => jobs.createMany(Array.from({ length: 5 + i }, (_, n) => ofType(projectId, types[(round + n) % types.length]!))));
      const queued = await prisma.job.findMany({ where: { projectId: { in: ids }, status: 'queued' }, select: { id: true }, take: 6 });
      const changes = queued.map((job, n) => jobs.transition(job.id, n % 2 === 0 ? 'canceled' : 'running'));
      await Promise.all([...writes, ...changes, stats.compactCounts(), otherStats.compactCounts(), stats.compactCounts(), otherStats.compactCounts()]);
      await expectExact();
    }
    await Promise.all([stats.compactCounts(), otherStats.compactCounts()]);
    expect(await prisma.jobCountDelta.count()).toBe(0);
    await expectExact();
  });
});

describe('JobStatsQueries time windows', () => {
  const prisma = useMigratedDatabase('genqueue_test_job_series', 4);
  const stats = new JobStatsQueries(prisma);
  const jobs = new JobsRepository(prisma, { webhookOutbox: null });
  const projects = new ProjectsRepository(prisma);

  /** A job that reached `status` at `finishedAt` (null: still queued). */
  async function finishedJob(projectId: string, status: string, finishedAt: Date | null): Promise<void> {
    const { job } = await jobs.create(ofType(projectId, 'image.generate'));
    await prisma.job.update({ where: { id: job.id }, data: { status, finishedAt } });
  }

  it('puts finished jobs in their bucket, counts the failed ones, and has every bucket up to now', async () => {
    const projectId = (await projects.create('series')).id;
    const since = new Date(Date.now() - 10 * 60_000);
    const at = (sec: number) => new Date(since.getTime() + sec * 1000);
    await finishedJob(projectId, 'succeeded', at(10));
    await finishedJob(projectId, 'failed', at(130));
    await finishedJob(projectId, 'succeeded', at(150));
    await finishedJob(projectId, 'expired', at(599));
    await finishedJob(projectId, 'canceled', at(-1));
    await finishedJob(projectId, 'queued', null);

    const series = await stats.finishedSeries(since, 60);
    // ten whole minutes, and the start of an eleventh when the clock moved on meanwhile
    expect(series.length).toBeGreaterThanOrEqual(10);
    expect(series.length).toBeLessThanOrEqual(11);
    series.forEach((bucket, n) => expect(bucket.start).toEqual(new Date(since.getTime() + n * 60_000)));
    expect(series.slice(0, 10).map((b) => [b.finished, b.failed])).toEqual([[1, 0], [0, 0], [2, 1], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [1, 0]]);

    expect(await stats.finishedSince(since)).toEqual([
      { status: 'expired', count: 1 },
      { status: 'failed', count: 1 },
      { status: 'succeeded', count: 2 },
    ]);
  });

  it('has no buckets for a window starting later than now, and long buckets that add up to the window', async () => {
    expect(await stats.finishedSeries(new Date(Date.now() + 60_000), 60)).toEqual([]);
    const projectId = (await projects.create('series-days')).id;
    await finishedJob(projectId, 'failed', new Date(Date.now() - 2 * 86_400_000));
    const since = new Date(Date.now() - 3 * 86_400_000);
    const days = await stats.finishedSeries(since, 86_400);
    expect(days).toHaveLength(3);
    const total = (await stats.finishedSince(since)).reduce((sum, row) => sum + row.count, 0);
    expect(days.reduce((sum, bucket) => sum + bucket.finished, 0)).toBe(total);
    expect(days[0]).toEqual({ start: since, finished: 1, failed: 1 });
  });

  it('counts deliveries waiting, failing, and finished in the last 24 h', async () => {
    const now = Date.now();
    const delivery = (n: number, status: string, attemptCount: number, updatedAt: Date) => prisma.$executeRaw`
      INSERT INTO webhook_deliveries (id, project_id, job_id, event_id, webhook_id, event_type, url, payload, status, attempt_count, created_at, updated_at)
      VALUES (${`whd_${n}`}, 'prj_x', 'job_x', ${`evt_${n}`}, ${`msg_${n}`}, 'job.succeeded', 'https://x.test', '{}', ${status}, ${attemptCount}, ${updatedAt}, ${updatedAt})`;
    await delivery(1, 'pending', 0, new Date(now));
    await delivery(2, 'pending', 2, new Date(now));
    await delivery(3, 'succeeded', 1, new Date(now - 3_600_000));
    await delivery(4, 'succeeded', 1, new Date(now - 2 * 86_400_000));
    await delivery(5, 'failed', 8, new Date(now - 60_000));
    expect(await stats.webhookCounts()).toEqual({ pending: 2, failing: 1, succeeded24h: 1, failed24h: 1 });
  });
});
