import type { Project, TestStack } from '@genqueue/testing';
import { artifactBytes, jobEvents, pollUntil, routeCounter, sha256, useStack, type StackRedis } from './helpers';
import { simTask, submissionsByKey, TASK_ENV, TERMINAL_EVENTS } from './tasks-helpers';

const VIDEO_QUEUE = 'job-video';
const VIDEO_UNITS_PER_SECOND = 50_000; // the built-in price catalog's US$0.10, which the simulator charges too

/** video.remix end to end: POST /v1/videos/{id}/remix of a finished video.generate (docs/gateway.md §8.4). */
describe('video.remix tasks', () => {
  let stack: TestStack;
  let project: Project;
  let redis: StackRedis;
  useStack((started) => ({ stack, project, redis } = started), { env: TASK_ENV });

  const remixRoute = async (): Promise<number> => (await routeCounter(stack, 'videos.remix')).received;

  async function costsOf(jobId: string, count: number): Promise<any> {
    return pollUntil(`${count} ledger entries of ${jobId}`, async () => {
      const res = await stack.api.get(`/v1/usage/jobs/${jobId}`, { key: project.key });
      expect(res.status).toBe(200);
      return res.body.data.length >= count ? res.body : undefined;
    });
  }

  async function generated(prompt: string): Promise<any> {
    const parent = await stack.runJob(project.key, { type: 'video.generate', input: { prompt, model: 'sora-2', seconds: '8', size: '1280x720' } });
    expect(parent.status).toBe('succeeded');
    return parent;
  }

  it('remixes a succeeded video: one remix submit at the gateway, its own task, video artifact and charge; a remix of a remix too', async () => {
    const parent = await generated('a paper boat on a pond');
    const prompt = 'the paper boat on a pond, at night';
    const job = await stack.runJob(project.key, { type: 'video.remix', input: { parent_id: parent.id, prompt } });
    expect(job.status).toBe('succeeded');
    expect(job.parent_id).toBe(parent.id);
    expect(job.upstream.task_id).not.toBe(parent.upstream.task_id);
    expect(job.output).toEqual({ video: { artifact_id: job.artifacts[0].id }, upstream_id: job.upstream.task_id });
    expect(job.artifacts).toEqual([expect.objectContaining({ kind: 'video', content_type: 'video/mp4' })]);
    expect(job.artifacts[0].id).not.toBe(parent.artifacts[0].id);

    const counter = await submissionsByKey(stack, prompt);
    expect(counter).toEqual({ attempts: 1, accepted: 1, task_ids: [job.upstream.task_id] });
    expect(await remixRoute()).toBe(1);
    const task = await simTask(stack, job.upstream.task_id);
    expect(task).toMatchObject({ action: 'remix', submissions: 1, content_requests: 1 });
    expect(sha256(await artifactBytes(stack, project.key, job.artifacts[0].id))).toBe(task.result.sha256);
    expect(task.result.sha256).not.toBe(parent.artifacts[0].sha256);
    const types = (await jobEvents(stack, project.key, job.id)).map((e) => e.type);
    expect(types.filter((t) => TERMINAL_EVENTS.includes(t))).toEqual(['job.succeeded']);

    // billed at submit on the original's model and ratios (the gateway's header)
    const costs = await costsOf(job.id, 1);
    expect(costs.data).toEqual([expect.objectContaining({ kind: 'charge', source: 'billing_header', units: 8 * VIDEO_UNITS_PER_SECOND, model: 'sora-2' })]);

    const again = await stack.runJob(project.key, { type: 'video.remix', input: { parent_id: job.id, prompt: 'the paper boat in the rain' } });
    expect(again.status).toBe('succeeded');
    expect((await simTask(stack, again.upstream.task_id)).action).toBe('remix');
  });

  it('a remix whose gateway task fails is failed and refunded', async () => {
    const parent = await generated('a lantern in the fog');
    const prompt = 'the lantern goes out sim:fail';
    const job = await stack.runJob(project.key, { type: 'video.remix', input: { parent_id: parent.id, prompt } });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('upstream_error');
    expect(job.artifacts).toEqual([]);
    expect((await submissionsByKey(stack, prompt)).accepted).toBe(1);
    expect((await simTask(stack, job.upstream.task_id)).refunded).toBe(true);
    const costs = await costsOf(job.id, 2);
    const charge = costs.data.find((c: any) => c.kind === 'charge');
    expect(charge).toMatchObject({ units: 8 * VIDEO_UNITS_PER_SECOND, model: 'sora-2' });
    expect(costs.data.find((c: any) => c.kind === 'refund')).toMatchObject({ units: -charge.units });
    expect(costs.units).toBe(0);
  });

  it('refuses a parent that is unknown, of another project, not succeeded or not a video, leaving no row and no queue entry', async () => {
    const failedParent = await stack.runJob(project.key, { type: 'video.generate', input: { prompt: 'a parent that fails sim:fail' } });
    expect(failedParent.status).toBe('failed');
    const image = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a still frame' } });
    expect(image.status).toBe('succeeded');
    const other = await stack.createProject();
    const foreign = await stack.runJob(other.key, { type: 'video.generate', input: { prompt: 'a video of another project' } });
    expect(foreign.status).toBe('succeeded');

    const remixesBefore = (await stack.api.get('/v1/jobs?type=video.remix&limit=100', { key: project.key })).body.data.length;
    const queuedBefore = await redis.queue(VIDEO_QUEUE).getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed');
    const routeBefore = await remixRoute();
    const cases: Array<[string, number, string, string]> = [
      ['job_01JD7Q3V9XK6M2N4P8R0S5T7VW', 404, 'not_found', 'unknown'],
      [foreign.id, 404, 'not_found', 'another project'],
      [failedParent.id, 400, 'invalid_request', 'failed'],
      [image.id, 400, 'invalid_request', 'image.generate'],
    ];
    for (const [parentId, status, code, mention] of cases) {
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'video.remix', input: { parent_id: parentId, prompt: 'remix it' } } });
      expect({ parentId, status: res.status }).toEqual({ parentId, status });
      expect(res.body).toEqual({ error: { code, message: expect.any(String), ...(res.body.error.details ? { details: expect.any(Array) } : {}) } });
      if (status === 400) {
        expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'input.parent_id' })]);
        expect(res.body.error.message).toContain(mention);
      }
    }
    expect((await stack.api.get('/v1/jobs?type=video.remix&limit=100', { key: project.key })).body.data).toHaveLength(remixesBefore);
    expect(await redis.queue(VIDEO_QUEUE).getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed')).toBe(queuedBefore);
    expect(await remixRoute()).toBe(routeBefore);
  });
});
