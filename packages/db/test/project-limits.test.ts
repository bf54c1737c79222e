import { Client } from 'pg';
import { createPrismaClient } from '../src/client';
import { migrateDatabase } from '../src/migrate';
import type { PrismaClient } from '../src/generated/prisma/client';
import { JobsRepository, RunningLimitReached, type Change } from '../src/repositories/jobs.repository';
import { ProjectsRepository, type ProjectLimits } from '../src/repositories/projects.repository';
import { newJobInput } from './repository-fixtures';
import { databaseUrl, dropDatabase, randomDatabaseName } from './test-databases';

/**
 * `limits.max_running_jobs` at the start of a job: concurrent starts from two processes (two clients,
 * two pools) never put a project over its limit; projects without one are not gated.
 */
describe('JobsRepository running limit', () => {
  const name = randomDatabaseName('genqueue_test_limits');
  const url = databaseUrl(name);
  // Two "worker processes", each with a pool wide enough to run all its starts at once.
  const clients: PrismaClient[] = [createPrismaClient(url, { poolMax: 10 }), createPrismaClient(url, { poolMax: 10 })];
  const [first, second] = clients.map((db) => new JobsRepository(db, { webhookOutbox: null })) as [JobsRepository, JobsRepository];
  const projects = new ProjectsRepository(clients[0] as PrismaClient);
  const prisma = clients[0] as PrismaClient;
  let seq = 0;

  beforeAll(async () => {
    await migrateDatabase(url);
  });

  afterAll(async () => {
    await Promise.all(clients.map((db) => db.$disconnect()));
    await dropDatabase(name);
  });

  async function projectWithJobs(limits: ProjectLimits, count: number): Promise<{ projectId: string; jobIds: string[] }> {
    const project = await projects.create(`limits-${(seq += 1)}`, limits);
    const jobIds: string[] = [];
    for (let i = 0; i < count; i += 1) jobIds.push((await first.create(newJobInput(project.id, null, []))).job.id);
    return { projectId: project.id, jobIds };
  }

  /** Starts every job at once, alternating between the two clients. */
  const startAll = (jobIds: string[]): Promise<PromiseSettledResult<Change | null>[]> =>
    Promise.allSettled(jobIds.map((id, i) => (i % 2 === 0 ? first : second).transition(id, 'running')));

  const started = (results: PromiseSettledResult<Change | null>[]): Change[] =>
    results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));

  const refused = (results: PromiseSettledResult<Change | null>[]): unknown[] =>
    results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));

  const runningCount = (projectId: string): Promise<number> => prisma.job.count({ where: { projectId, status: 'running' } });

  it('lets exactly the limit through when ten starts race, and leaves the others queued untouched', async () => {
    const { projectId, jobIds } = await projectWithJobs({ max_running_jobs: 2 }, 10);

    const results = await startAll(jobIds);

    expect(started(results)).toHaveLength(2);
    const errors = refused(results);
    expect(errors).toHaveLength(8);
    for (const err of errors) {
      expect(err).toBeInstanceOf(RunningLimitReached);
      expect(err).toMatchObject({ projectId, maxRunningJobs: 2 });
    }
    expect(await runningCount(projectId)).toBe(2);
    const startedIds = new Set(started(results).map((c) => c.job.id));
    // a job already running is not checked again (a retry or a stalled re-run of it)
    for (const id of startedIds) expect((await second.beginAttempt(id))?.attempts).toBe(2);
    const waiting = await prisma.job.findMany({ where: { id: { in: jobIds.filter((id) => !startedIds.has(id)) } }, include: { events: true } });
    expect(waiting).toHaveLength(8);
    for (const job of waiting) {
      expect(job).toMatchObject({ status: 'queued', attempts: 0, eventSeq: 1, startedAt: null });
      expect(job.events.map((e) => e.type)).toEqual(['job.created']);
    }
  });

  it('starts another job once a running one has finished, and only one', async () => {
    const { projectId, jobIds } = await projectWithJobs({ max_running_jobs: 2 }, 6);
    const firstRound = started(await startAll(jobIds));
    expect(firstRound).toHaveLength(2);

    const done = await first.transition((firstRound[0] as Change).job.id, 'succeeded', { output: {} });
    expect(done?.job.status).toBe('succeeded');

    const startedIds = new Set(firstRound.map((c) => c.job.id));
    const secondRound = await startAll(jobIds.filter((id) => !startedIds.has(id)));
    expect(started(secondRound)).toHaveLength(1);
    expect(refused(secondRound)).toHaveLength(3);
    expect(await runningCount(projectId)).toBe(2);
  });

  it('a start that loses the race for the same job is null, not a refusal', async () => {
    const { projectId, jobIds } = await projectWithJobs({ max_running_jobs: 2 }, 1);
    const jobId = jobIds[0] as string;
    const results = await Promise.allSettled([first.transition(jobId, 'running'), second.transition(jobId, 'running')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(started(results)).toHaveLength(1);
    expect(await runningCount(projectId)).toBe(1);
  });

  it('does not gate a project without a limit (requests_per_minute alone is no running limit)', async () => {
    const { projectId, jobIds } = await projectWithJobs({ requests_per_minute: 60 }, 10);
    const results = await startAll(jobIds);
    expect(started(results)).toHaveLength(10);
    expect(await runningCount(projectId)).toBe(10);
  });

  it('takes the project lock only for a limited project', async () => {
    const limited = await projectWithJobs({ max_running_jobs: 5 }, 1);
    const unlimited = await projectWithJobs({}, 1);
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      // Another transaction holds both projects' start locks.
      await holder.query('BEGIN');
      for (const { projectId } of [limited, unlimited]) {
        await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [projectId]);
      }

      // the unlimited project's start does not wait for it
      expect((await first.transition(unlimited.jobIds[0] as string, 'running'))?.job.status).toBe('running');

      // the limited project's start waits until the holder commits
      const limitedStart = first.transition(limited.jobIds[0] as string, 'running');
      await waitFor('the limited start to wait on the advisory lock', async () => {
        const { rows } = await holder.query(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
            WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted`,
        );
        return rows[0].n === 1;
      });
      expect(await runningCount(limited.projectId)).toBe(0);
      await holder.query('COMMIT');
      expect((await limitedStart)?.job.status).toBe('running');
    } finally {
      await holder.end();
    }
  });
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
