import { createPrismaClient, JobAttemptsRepository, type PrismaClient } from '@genqueue/db';
import type { TestStack } from '@genqueue/testing';
import { armFault, simulatedMs, useStack, type StackFixture } from './helpers';
import { TASK_ENV } from './tasks-helpers';

const MAX_ATTEMPTS = 3;

/** Every failed run of a job leaves a row in job_attempts (the dashboard's job page reads them). */
describe('attempt log', () => {
  let stack: TestStack;
  let project: StackFixture['project'];
  let prisma: PrismaClient;
  let attempts: JobAttemptsRepository;
  useStack(
    (started) => {
      ({ stack, project } = started);
      prisma = createPrismaClient(stack.databaseUrl, { poolMax: 2 });
      attempts = new JobAttemptsRepository(prisma);
    },
    { env: { ...TASK_ENV, JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } },
  );

  afterAll(async () => {
    await prisma?.$disconnect();
  });

  const logOf = async (jobId: string) =>
    (await attempts.listForJob(jobId)).map((row) => ({ attempt: row.attempt, outcome: row.outcome, error: row.error, id: row.id }));
  const image = (prompt: string) => ({ type: 'image.generate', input: { prompt } });

  it('records each retried run with its error, and nothing for the run that succeeded', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: 2 });
    const job = await stack.runJob(project.key, image('two 5xx then fine'));
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(3);

    const log = await logOf(job.id);
    expect(log.map(({ attempt, outcome }) => ({ attempt, outcome }))).toEqual([
      { attempt: 1, outcome: 'retried' },
      { attempt: 2, outcome: 'retried' },
    ]);
    for (const row of log) {
      expect(row.id).toMatch(/^jat_[0-9A-Z]{26}$/);
      expect(row.error).toMatchObject({ code: 'upstream_error', retryable: true, message: expect.any(String) });
      expect((row.error as { message: string }).message.length).toBeGreaterThan(0);
    }
  });

  it('records the final failed run of a job that used up its attempts, with the error the job ended with', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'server_error', times: -1 });
    const job = await stack.runJob(project.key, image('always 5xx'));
    expect(job.status).toBe('failed');

    const log = await logOf(job.id);
    expect(log.map(({ attempt, outcome }) => ({ attempt, outcome }))).toEqual([
      { attempt: 1, outcome: 'retried' },
      { attempt: 2, outcome: 'retried' },
      { attempt: 3, outcome: 'failed' },
    ]);
    expect(log[2]?.error).toEqual(job.error);
  });

  it('records a gateway 429 as rate_limited', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'rate_limit_empty', times: 1 });
    const job = await stack.runJob(project.key, image('one 429'));
    expect(job.status).toBe('succeeded');
    // the run after the lane's pause counts as the job's second run
    expect(job.attempts).toBe(2);

    const log = await logOf(job.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ attempt: 1, outcome: 'rate_limited', error: { code: 'upstream_error', retryable: true } });
  });

  it('records a task kind: a failed submit that is retried, then the upstream task failing the job', async () => {
    await armFault(stack, { route: 'videos.create', kind: 'server_error', times: 1 });
    const job = await stack.runJob(project.key, { type: 'video.generate', input: { prompt: 'a video that fails upstream sim:fail' } });
    expect(job.status).toBe('failed');

    const log = await logOf(job.id);
    expect(log.map(({ attempt, outcome }) => ({ attempt, outcome }))).toEqual([
      { attempt: 1, outcome: 'retried' },
      { attempt: 1, outcome: 'failed' },
    ]);
    expect(log[0]?.error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(log[1]?.error).toEqual(job.error);
  }, 60_000);

  it('records a run the job runner ends at the deadline', async () => {
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 5_000) });
    const job = await stack.runJob(project.key, { ...image('too slow for its deadline'), deadline_seconds: 1 });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_timeout' });

    const log = await logOf(job.id);
    expect(log.map(({ attempt, outcome }) => ({ attempt, outcome }))).toEqual([{ attempt: 1, outcome: 'failed' }]);
    expect(log[0]?.error).toEqual(job.error);
  });

  it('records the failed run of an embedding batch whose chunks all failed', async () => {
    await armFault(stack, { route: 'embeddings', kind: 'rejected', times: -1 });
    const job = await stack.runJob(project.key, { type: 'embedding.batch', input: { inputs: ['one', 'two', 'three'] } });
    expect(job.status).toBe('failed');

    const log = await logOf(job.id);
    expect(log.map(({ outcome }) => outcome)).toEqual(['failed']);
    expect(log[0]?.error).toEqual(job.error);
  }, 60_000);

  it('writes no row for a job that succeeds at once', async () => {
    const job = await stack.runJob(project.key, image('no trouble'));
    expect(job.status).toBe('succeeded');
    expect(await logOf(job.id)).toEqual([]);
  });
});
