import { createPrismaClient, type PrismaClient } from '@genqueue/db';
import type { TestStack } from '@genqueue/testing';
import { armFault, counterDelta, jobEvents, routeCounter, useStack, type StackFixture } from './helpers';
import { refuseTaskIdWritesSql, submissionsByKey, TASK_ENV, TERMINAL_EVENTS } from './tasks-helpers';

/** Writes of the task id that Postgres refuses before the one that goes through (an injected failure). */
const REFUSED_ID_WRITES = 4;

/**
 * The submit window only moves forward (issue 10, item 2): an accepted task's id is never lost to a
 * failed write, and a submit whose outcome is unknown is not made again on our own.
 */
describe('task submit window', () => {
  let stack: TestStack;
  let project: StackFixture['project'];
  let prisma: PrismaClient;
  useStack(
    (started) => {
      ({ stack, project } = started);
      prisma = createPrismaClient(stack.databaseUrl, { poolMax: 2 });
    },
    { env: TASK_ENV },
  );

  afterAll(async () => {
    await prisma?.$disconnect();
  });

  const video = (prompt: string) => ({ type: 'video.generate', input: { prompt } });

  it.each<[string, { kind: string; status?: number }]>([
    ['a proxy 502', { kind: 'server_error', status: 502 }],
    ['a proxy 504', { kind: 'server_error', status: 504 }],
    ["Cloudflare's 524", { kind: 'server_error', status: 524 }],
    ['a reset connection (no answer)', { kind: 'reset' }],
  ])('fails upstream_submit_unknown after %s at submit, and submits again only on an explicit retry', async (_what, fault) => {
    const prompt = `unknown submit outcome: ${fault.kind}${fault.status ? ` ${fault.status}` : ''}`;
    await armFault(stack, { route: 'videos.create', times: 1, ...fault });
    const before = await routeCounter(stack, 'videos.create');
    const failed = await stack.runJob(project.key, video(prompt));

    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'upstream_submit_unknown', retryable: false });
    expect(failed.error.message).toContain('may exist upstream');
    expect(failed.upstream.task_id).toBeNull();
    // one request, not followed by another on our own
    expect(counterDelta(before, await routeCounter(stack, 'videos.create')).received).toBe(1);
    const events = await jobEvents(stack, project.key, failed.id);
    expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => [e.type, e.data.error?.code])).toEqual([['job.failed', 'upstream_submit_unknown']]);

    const retried = await stack.api.post(`/v1/jobs/${failed.id}/retry`, { key: project.key });
    expect(retried.status).toBe(202);
    const job = await stack.waitFinal(project.key, failed.id);
    expect(job.status).toBe('succeeded');
    expect(counterDelta(before, await routeCounter(stack, 'videos.create')).received).toBe(2);
    expect((await submissionsByKey(stack, prompt)).accepted).toBe(1);
  }, 60_000);

  it('keeps to the window on a gateway 500 (an answer: nothing was created) and submits again', async () => {
    const prompt = 'submit answered 500';
    await armFault(stack, { route: 'videos.create', kind: 'server_error', status: 500, times: 1 });
    const job = await stack.runJob(project.key, video(prompt));
    expect(job.status).toBe('succeeded');
    expect(await submissionsByKey(stack, prompt)).toMatchObject({ attempts: 1, accepted: 1 });
  }, 60_000);

  describe('when Postgres refuses the write of an accepted task id', () => {
    beforeAll(async () => {
      for (const statement of refuseTaskIdWritesSql(REFUSED_ID_WRITES)) await prisma.$executeRawUnsafe(statement);
    });

    afterAll(async () => {
      await prisma.$executeRawUnsafe(`DROP TRIGGER IF EXISTS test_refuse_task_id_write ON jobs`);
      await prisma.$executeRawUnsafe(`DROP FUNCTION IF EXISTS test_refuse_task_id_write()`);
      await prisma.$executeRawUnsafe(`DROP SEQUENCE IF EXISTS test_refused_task_id_writes`);
    });

    it('keeps the id in memory and writes it later: one submit, the job succeeds', async () => {
      const prompt = 'accepted, then the id write fails';
      const job = await stack.runJob(project.key, video(prompt));

      const [sequence] = await prisma.$queryRawUnsafe<Array<{ writes: bigint }>>(`SELECT last_value AS writes FROM test_refused_task_id_writes`);
      // every refused write and the one that went through
      expect(Number(sequence?.writes)).toBe(REFUSED_ID_WRITES + 1);
      expect(job.status).toBe('succeeded');
      const submissions = await submissionsByKey(stack, prompt);
      expect(submissions).toMatchObject({ attempts: 1, accepted: 1 });
      expect(job.upstream.task_id).toBe(submissions.task_ids[0]);
      const events = await jobEvents(stack, project.key, job.id);
      expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['job.succeeded']);
    }, 60_000);
  });
});
