import { TestStack } from '@genqueue/testing';
import { armFault, clearFaults, pollUntil, routeCounter, waitForRequests } from './helpers';

/**
 * A job that takes its worker down (out of memory, say) must not be run for ever: BullMQ hands it to
 * another worker once; the second death fails it as `worker_crashed` (issue 11) instead of the
 * sweeper enqueuing it again until its deadline.
 */
describe('a job that kills its worker twice', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({
      env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', SWEEP_INTERVAL_MS: '1000' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('is failed as worker_crashed, not run a third time', async () => {
    const project = await stack.createProject();
    // the gateway never answers: the job is running inside the worker when it is killed
    await armFault(stack, { route: 'images.generations', kind: 'hang', times: -1 });
    const before = await routeCounter(stack, 'images.generations');
    const created = await stack.api.post('/v1/jobs', {
      key: project.key,
      body: { type: 'image.generate', input: { prompt: 'a fox that crashes workers' }, deadline_seconds: 600 },
    });
    expect(created.status).toBe(202);

    await waitForRequests(stack, 'images.generations', before, 1);
    await stack.stopWorker('SIGKILL');
    await stack.startWorker();
    // the next worker takes the stalled job over and calls the gateway again
    await waitForRequests(stack, 'images.generations', before, 2);
    await stack.stopWorker('SIGKILL');
    await stack.startWorker();

    const job = await pollUntil(
      'the job to be final',
      async () => {
        const res = await stack.api.get(`/v1/jobs/${created.body.id}?wait=5`, { key: project.key });
        return ['failed', 'succeeded', 'canceled', 'expired'].includes(res.body.status) ? res.body : undefined;
      },
      60_000,
    );
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code: 'worker_crashed', message: expect.stringContaining('twice'), retryable: false });
    await clearFaults(stack);
    // two runs reached the gateway, no third
    expect((await routeCounter(stack, 'images.generations')).received - before.received).toBe(2);
    const attempts = await stack.api.get(`/v1/jobs/${created.body.id}/events`, { key: project.key, headers: { accept: 'application/json' } });
    expect(attempts.body.data.filter((e: any) => e.type === 'job.failed')).toHaveLength(1);
  }, 120_000);
});
