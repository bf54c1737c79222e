import { projectWaitingListKey } from '@genqueue/queue';
import { TestStack, type ManagedProcess, type Project } from '@genqueue/testing';
import { armFault, clearFaults, jobEvents, pollUntil, simulatedMs, StackRedis, submit } from './helpers';

const JOBS_PER_PROJECT = 8;

/** Most jobs in `running` at any one instant, from their started_at/finished_at (a finish at t frees its slot at t). */
function maxOverlap(jobs: Array<{ started_at: string; finished_at: string }>): number {
  const edges = jobs.flatMap((job) => [
    { at: Date.parse(job.started_at), delta: 1 },
    { at: Date.parse(job.finished_at), delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.delta;
    most = Math.max(most, running);
  }
  return most;
}

/** `limits.max_running_jobs` with the real stack: two worker processes, a slow gateway, two projects side by side. */
describe('project running limit end to end', () => {
  let stack: TestStack;
  let firstWorker: ManagedProcess | null;

  beforeAll(async () => {
    // the backstop is longer than any test here: a waiting job that starts was woken by a freed slot
    stack = await TestStack.start({ env: { PROJECT_SLOT_RECHECK_MS: '600000' } });
    // a second worker process: the limit holds across processes, not only within one
    firstWorker = stack.worker;
    await stack.startWorker();
  }, 120_000);

  afterAll(async () => {
    await firstWorker?.stop();
    await stack?.stop();
  });

  /**
   * A project with max_running_jobs 1: its first job holds the slot (its gateway call hangs for a
   * long while; later calls answer at once), its second is refused by a worker and parked on the
   * project's waiting list, not merely not picked up yet.
   */
  async function slotHolderAndWaiter(): Promise<{ project: Project; first: { id: string }; second: { id: string } }> {
    await clearFaults(stack);
    const project = await stack.createProject({ max_running_jobs: 1, requests_per_minute: 600 });
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 60_000) });
    const first = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'the slot holder' } });
    await pollUntil('the first job running', async () => ((await stack.api.get(`/v1/jobs/${first.id}`, { key: project.key })).body.status === 'running' ? true : undefined));
    const second = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'the waiting one' } });
    const redis = new StackRedis(stack);
    try {
      const waiting = projectWaitingListKey(String(stack.env['QUEUE_PREFIX']), project.id);
      await pollUntil('the second job on its project waiting list', async () => ((await redis.redis.zcard(waiting)) === 1 ? true : undefined));
    } finally {
      await redis.close();
    }
    return { project, first, second };
  }

  it('never runs more than max_running_jobs of a project at once; the waiting jobs stay queued, with no extra attempt or event', async () => {
    const limited = await stack.createProject({ max_running_jobs: 2, requests_per_minute: 600 });
    const unlimited = await stack.createProject({ requests_per_minute: 600 });
    // every image call lasts ~1.5 s, so the jobs submitted together overlap unless something holds them back
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: -1, delay_ms: await simulatedMs(stack, 1_500) });

    const submitAll = (project: Project, name: string) =>
      Array.from({ length: JOBS_PER_PROJECT }, (_, i) =>
        submit(stack, project.key, { type: 'image.generate', input: { prompt: `${name} job ${i}` } }).then((job) => ({ project, id: job.id as string })),
      );
    const submitted = await Promise.all([...submitAll(limited, 'limited'), ...submitAll(unlimited, 'unlimited')]);
    const finals = await Promise.all(submitted.map(async ({ project, id }) => ({ project, job: await stack.waitFinal(project.key, id) })));
    const jobsOf = (project: Project) => finals.filter((f) => f.project === project).map((f) => f.job);

    for (const { job } of finals) expect({ id: job.id, status: job.status, attempts: job.attempts }).toEqual({ id: job.id, status: 'succeeded', attempts: 1 });
    expect(maxOverlap(jobsOf(limited))).toBe(2);
    // the same load without a limit does overlap: the check above can fail
    expect(maxOverlap(jobsOf(unlimited))).toBeGreaterThan(2);

    for (const { project, job } of finals) {
      const types = (await jobEvents(stack, project.key, job.id)).map((e) => e.type);
      expect({ id: job.id, types }).toEqual({ id: job.id, types: ['job.created', 'job.started', 'job.succeeded'] });
    }
  }, 120_000);

  it('a cancel through the API frees the slot: the waiting job starts at once', async () => {
    const { project, first, second } = await slotHolderAndWaiter();
    expect((await stack.api.get(`/v1/jobs/${second.id}`, { key: project.key })).body.status).toBe('queued');

    const canceled = await stack.api.post(`/v1/jobs/${first.id}/cancel`, { key: project.key, body: {} });
    expect(canceled.body.status).toBe('canceled');
    const done = await stack.waitFinal(project.key, second.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await jobEvents(stack, project.key, second.id)).map((e) => e.type)).toEqual(['job.created', 'job.started', 'job.succeeded']);
    // it started only after the cancel: never two running at once
    expect(Date.parse(done.started_at)).toBeGreaterThanOrEqual(Date.parse(canceled.body.finished_at));
  }, 90_000);

  it('raising the limit through the admin API starts a waiting job at once', async () => {
    const { project, first, second } = await slotHolderAndWaiter();

    const raised = await stack.api.request('PATCH', `/admin/v1/projects/${project.id}`, { key: stack.adminKey, body: { limits: { max_running_jobs: 2 } } });
    expect(raised.body.limits).toMatchObject({ max_running_jobs: 2 });
    expect(await stack.waitFinal(project.key, second.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // the first still holds its slot: the two ran side by side, as the new limit allows
    expect((await stack.api.get(`/v1/jobs/${first.id}`, { key: project.key })).body.status).toBe('running');
    await stack.api.post(`/v1/jobs/${first.id}/cancel`, { key: project.key, body: {} });
  }, 90_000);
});
