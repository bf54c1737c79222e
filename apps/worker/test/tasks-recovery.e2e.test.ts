import type { Project, TestStack } from '@genqueue/testing';
import { armFault, counterDelta, crashWorker, jobEvents, routeCounter, simulatedMs, submit, useStack, waitForRequests, type StackRedis } from './helpers';
import { setTaskConfig, submissionsByKey, TASK_ENV, TERMINAL_EVENTS, waitForJob } from './tasks-helpers';

type Family = 'video' | 'mj';

const TYPE: Record<Family, string> = { video: 'video.generate', mj: 'mj.imagine' };
const STATUS_ROUTE: Record<Family, string> = { video: 'videos.status', mj: 'mj.list' };
const RESULT_ROUTE: Record<Family, string> = { video: 'videos.content', mj: 'mj.image' };

/** A worker SIGKILLed at each phase of a task: the next worker carries on, the gateway sees one submission. */
describe('task jobs survive a killed worker', () => {
  let stack: TestStack;
  let project: Project;
  let redis: StackRedis;
  useStack((started) => ({ stack, project, redis } = started), { env: TASK_ENV });

  afterEach(async () => {
    if (!stack.worker) await stack.startWorker();
  });

  async function expectOnceAndSucceeded(jobId: string, prompt: string): Promise<any> {
    const job = await stack.waitFinal(project.key, jobId);
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
    expect(await submissionsByKey(stack, prompt)).toMatchObject({ attempts: 1, accepted: 1 });
    const types = (await jobEvents(stack, project.key, jobId)).map((e) => e.type);
    expect(types.filter((t) => TERMINAL_EVENTS.includes(t))).toEqual(['job.succeeded']);
    expect(types.filter((t) => t === 'job.started')).toHaveLength(1);
    return job;
  }

  describe.each<Family>(['video', 'mj'])('%s', (family) => {
    it('killed before submit (no worker picked the job up)', async () => {
      await stack.stopWorker();
      const prompt = `${family} submitted while no worker runs`;
      const created = await submit(stack, project.key, { type: TYPE[family], input: { prompt } });
      await stack.startWorker();
      await expectOnceAndSucceeded(created.id, prompt);
    }, 90_000);

    it('killed while parked (task id saved, job delayed in Redis)', async () => {
      // a longer task, so that the kill surely lands while it runs upstream
      const before = await setTaskConfig(stack, family === 'video' ? { video_duration_ms: 300_000 } : { mj_duration_ms: 300_000 });
      try {
        const prompt = `${family} parked when the worker died`;
        const created = await submit(stack, project.key, { type: TYPE[family], input: { prompt } });
        await waitForJob(stack, project.key, created.id, 'the task id to be saved', (j) => j.upstream.task_id !== null);
        await crashWorker(stack);
        expect(await redis.jobState(`job-${family}`, created.id)).toMatch(/delayed|active|waiting/);
        await stack.startWorker();
        await expectOnceAndSucceeded(created.id, prompt);
      } finally {
        await setTaskConfig(stack, family === 'video' ? { video_duration_ms: before['video_duration_ms'] } : { mj_duration_ms: before['mj_duration_ms'] });
      }
    }, 90_000);

    it('killed while polling (a status request in flight)', async () => {
      const prompt = `${family} polled when the worker died`;
      const before = await routeCounter(stack, STATUS_ROUTE[family]);
      await armFault(stack, { route: STATUS_ROUTE[family], kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 10_000) });
      const created = await submit(stack, project.key, { type: TYPE[family], input: { prompt } });
      await waitForRequests(stack, STATUS_ROUTE[family], before, 1);
      await crashWorker(stack);
      await stack.startWorker();
      await expectOnceAndSucceeded(created.id, prompt);
    }, 90_000);

    it('killed while downloading the result', async () => {
      const prompt = `${family} downloaded when the worker died`;
      const before = await routeCounter(stack, RESULT_ROUTE[family]);
      await armFault(stack, { route: RESULT_ROUTE[family], kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 10_000) });
      const created = await submit(stack, project.key, { type: TYPE[family], input: { prompt } });
      await waitForRequests(stack, RESULT_ROUTE[family], before, 1);
      expect((await stack.api.get(`/v1/jobs/${created.id}`, { key: project.key })).body.status).toBe('running');
      await crashWorker(stack);
      await stack.startWorker();
      const job = await expectOnceAndSucceeded(created.id, prompt);
      expect(job.upstream.task_id).not.toBeNull();
    }, 90_000);
  });

  it('a submit whose answer was lost (killed inside the window) is not made again on our own: upstream_submit_unknown, then an explicit retry', async () => {
    const prompt = 'video submit answer lost';
    const before = await routeCounter(stack, 'videos.create');
    await armFault(stack, { route: 'videos.create', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 10_000) });
    const created = await submit(stack, project.key, { type: 'video.generate', input: { prompt } });
    await waitForRequests(stack, 'videos.create', before, 1);
    await crashWorker(stack);
    await stack.startWorker();
    // the next run waits out the submit guard (the call might still be in flight), then gives up on the answer
    const failed = await stack.waitFinal(project.key, created.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'upstream_submit_unknown', retryable: false });
    expect(failed.error.message).toContain('may exist upstream');
    expect(counterDelta(before, await routeCounter(stack, 'videos.create')).received).toBe(1);

    expect((await stack.api.post(`/v1/jobs/${created.id}/retry`, { key: project.key })).status).toBe(202);
    const job = await stack.waitFinal(project.key, created.id);
    expect(job.status).toBe('succeeded');
    const events = await jobEvents(stack, project.key, created.id);
    expect(events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type)).toEqual(['job.failed', 'job.succeeded']);
    expect(counterDelta(before, await routeCounter(stack, 'videos.create')).received).toBe(2);
    const counter = await submissionsByKey(stack, prompt);
    // the slow first request may or may not have been processed by the gateway after the hang-up
    expect(counter.accepted).toBeGreaterThanOrEqual(1);
    expect(counter.accepted).toBeLessThanOrEqual(2);
  }, 90_000);
});
