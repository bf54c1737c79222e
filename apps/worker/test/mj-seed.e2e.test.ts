import { TestStack, type Project } from '@genqueue/testing';
import { routeCounter } from './helpers';
import { TASK_ENV } from './tasks-helpers';

/** `"seed": true` on mj.imagine and mj.action: the gateway's image seed lands in the output. */
describe('Midjourney image seed', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await TestStack.start({ env: TASK_ENV });
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** What the gateway itself answers for the task's seed. */
  async function gatewaySeed(taskId: string): Promise<string> {
    const res = await fetch(`${stack.simulatorUrl}/mj/task/${taskId}/image-seed`, { headers: { authorization: 'Bearer sk-seed-check' } });
    const body = (await res.json()) as { code: number; result: string };
    expect(body.code).toBe(1);
    return body.result;
  }

  it('imagine and an upscale with seed: true carry the gateway seed; without it no seed is read', async () => {
    const before = await routeCounter(stack, 'mj.image_seed');
    const plain = await stack.runJob(project.key, { type: 'mj.imagine', input: { prompt: 'a quiet harbour' } });
    expect(plain.status).toBe('succeeded');
    expect(plain.output.seed).toBeUndefined();
    expect((await routeCounter(stack, 'mj.image_seed')).received).toBe(before.received);

    const imagine = await stack.runJob(project.key, { type: 'mj.imagine', input: { prompt: 'a quiet harbour at dawn', seed: true } });
    expect(imagine.status).toBe('succeeded');
    expect(imagine.output.seed).toMatch(/^\d+$/);
    expect(imagine.output.seed).toBe(await gatewaySeed(imagine.upstream.task_id));

    const u1 = imagine.output.buttons.find((b: { label: string }) => b.label === 'U1');
    const upscale = await stack.runJob(project.key, { type: 'mj.action', input: { job_id: imagine.id, custom_id: u1.custom_id, seed: true } });
    expect(upscale.status).toBe('succeeded');
    expect(upscale.output.seed).toBe(await gatewaySeed(upscale.upstream.task_id));
    expect(upscale.output.seed).not.toBe(imagine.output.seed);
  });

  it('seed must be a boolean, and only imagine and action take it', async () => {
    const wrongType = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'mj.imagine', input: { prompt: 'x', seed: 'yes' } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details[0].path).toBe('input.seed');
    const blend = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'mj.describe', input: { image: { url: 'https://example.org/a.png' }, seed: true } } });
    expect(blend.status).toBe(400);
  });
});
