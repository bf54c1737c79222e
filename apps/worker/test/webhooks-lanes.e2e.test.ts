import { startTsProcess, TestStack, type ManagedProcess } from '@genqueue/testing';
import { lanesToRun } from '../src/worker-host';
import { pollUntil, StackRedis, submit } from './helpers';
import { Receiver, verifyWith } from './webhooks-helpers';

describe('WORKER_QUEUES and the webhook lane', () => {
  it('names job families and `webhooks`; unset runs everything; an unknown name is refused', () => {
    expect(lanesToRun({ WORKER_QUEUES: undefined })).toEqual({ families: ['image', 'video', 'mj', 'audio', 'embedding'], webhooks: true });
    expect(lanesToRun({ WORKER_QUEUES: 'image, mj' })).toEqual({ families: ['image', 'mj'], webhooks: false });
    expect(lanesToRun({ WORKER_QUEUES: 'webhooks' })).toEqual({ families: [], webhooks: true });
    expect(() => lanesToRun({ WORKER_QUEUES: 'image,webhook' })).toThrow(/unknown lanes: webhook \(known: .*webhooks\)/);
  });

  describe('a dedicated delivery worker', () => {
    let stack: TestStack;
    let receiver: Receiver;
    let redis: StackRedis;
    let deliveryWorker: ManagedProcess | null = null;

    beforeAll(async () => {
      receiver = await Receiver.start();
      stack = await TestStack.start({ env: { ALLOW_PRIVATE_URLS: 'true' }, withoutWorker: true });
      redis = new StackRedis(stack);
    }, 120_000);

    afterAll(async () => {
      await deliveryWorker?.stop();
      await redis?.close();
      await stack?.stop();
      await receiver?.close();
    });

    it('an image-only worker queues the deliveries it writes; a webhooks-only worker sends them', async () => {
      await stack.startWorker({ WORKER_QUEUES: 'image' });
      const project = await stack.createProject();
      const secret = (await stack.api.get('/v1/webhook-secret', { key: project.key })).body.secret as string;
      const target = receiver.target('/dedicated');
      const job = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'a fox with a courier' }, webhook_url: target, webhook_events: ['job.succeeded'] });
      expect((await stack.waitFinal(project.key, job.id)).status).toBe('succeeded');

      // queued at once by the image worker, and nobody takes it
      const deliveries = async () => (await stack.api.get(`/v1/webhook-deliveries?job_id=${job.id}`, { key: project.key })).body.data as any[];
      const [pending] = await deliveries();
      expect(pending).toMatchObject({ status: 'pending', attempts: [] });
      await pollUntil('the delivery waiting in its queue', async () => ((await redis.queue('webhook-deliver').getWaitingCount()) >= 1 ? true : undefined));
      expect(receiver.on('/dedicated')).toHaveLength(0);

      deliveryWorker = startTsProcess('worker-webhooks', 'apps/worker/src/main.ts', { ...stack.env, WORKER_QUEUES: 'webhooks' }, stack.logDir);
      await deliveryWorker.waitForLine('worker.started', 60_000);
      const [received] = await receiver.waitForCount('/dedicated', 1);
      expect(verifyWith(secret, received!)).toMatchObject({ type: 'job.succeeded', data: { id: job.id } });
      await pollUntil('the delivery recorded', async () => ((await deliveries())[0]?.status === 'succeeded' ? true : undefined));
    }, 90_000);
  });
});
