import { createPrismaClient, JobAttemptsRepository, JobsRepository, WebhookOutbox } from '@genqueue/db';
import { createRedis, JobEventBus, jobEventsChannel, JobQueues } from '@genqueue/queue';
import { TestStack, type Project } from '@genqueue/testing';
import { webhookFanOut } from '@genqueue/webhooks';
import pino from 'pino';
import { sweep, type SweeperDeps } from '../src/sweeper';
import { StackRedis, submit } from './helpers';

/** The sweeper against the stack's Postgres and Redis, with no worker: what it puts back in the queue. */
describe('sweeper: jobs Redis lost', () => {
  let stack: TestStack;
  let project: Project;
  let redis: StackRedis;
  let deps: SweeperDeps;
  let close: () => Promise<void>;

  beforeAll(async () => {
    stack = await TestStack.start({ withoutWorker: true });
    project = await stack.createProject({ requests_per_minute: 10_000 });
    redis = new StackRedis(stack);
    const prisma = createPrismaClient(stack.databaseUrl, { poolMax: 2 });
    const connection = createRedis(String(stack.env['REDIS_URL']), 'producer');
    const prefix = String(stack.env['QUEUE_PREFIX']);
    const queues = new JobQueues(connection, prefix);
    deps = {
      jobs: new JobsRepository(prisma, { webhookOutbox: new WebhookOutbox(prisma, webhookFanOut) }),
      attempts: new JobAttemptsRepository(prisma),
      queues,
      events: new JobEventBus(connection, null, jobEventsChannel(prefix)),
      logger: pino({ level: 'silent' }),
      retry: { maxAttempts: 3, baseDelayMs: 100 },
      staleAfterMs: 0,
      workerCrashLimit: 2,
      batchSize: 2,
      staleCursor: { after: null },
    };
    close = async () => {
      await queues.close();
      connection.disconnect();
      await prisma.$disconnect();
    };
  }, 120_000);

  afterAll(async () => {
    await close?.();
    await redis?.close();
    await stack?.stop();
  });

  it('pages through a backlog larger than a tick, oldest first, until every lost job is queued again', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await submit(stack, project.key, { type: 'image.generate', input: { prompt: `lost fox ${i}` } })).id);
    const live = async () => (await Promise.all(ids.map((id) => deps.queues.isLive('image', id)))).filter(Boolean).length;
    expect(await live()).toBe(5);
    await redis.flushPrefix();
    expect(await live()).toBe(0);

    // two rows a tick: the oldest two, then the next two (the first two are live again and skipped), then the last
    const requeued: number[] = [];
    for (let tick = 0; tick < 3; tick += 1) requeued.push((await sweep(deps)).requeued);
    expect(requeued).toEqual([2, 2, 1]);
    expect(await live()).toBe(5);
    // the cursor starts over after the last page: a new pass finds nothing more to do
    expect(deps.staleCursor.after).toBeNull();
    expect((await sweep(deps)).requeued).toBe(0);
  }, 60_000);

  it('fails a running job past its deadline and logs that run as failed', async () => {
    const created = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'started, then silent' }, deadline_seconds: 60 });
    const started = await deps.jobs.transition(created.id, 'running');
    expect(started?.job.status).toBe('running');

    // the sweep as it would run two minutes from now
    const report = await sweep({ ...deps, staleCursor: { after: null } }, new Date(Date.now() + 120_000));
    expect(report.timedOut).toBeGreaterThanOrEqual(1);
    const job = await deps.jobs.findById(created.id);
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatchObject({ code: 'upstream_timeout', message: 'The job passed its deadline' });
    const log = await deps.attempts.listForJob(created.id);
    expect(log.map((row) => ({ attempt: row.attempt, outcome: row.outcome, error: row.error }))).toEqual([{ attempt: 1, outcome: 'failed', error: job?.error }]);
  }, 60_000);
});
