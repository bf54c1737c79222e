import { LaneActivity } from '@genqueue/queue';
import type { TestStack } from '@genqueue/testing';
import { pollUntil, useStack, type StackFixture, type StackRedis } from './helpers';

/** Workers note when they take a job from each queue (the admin overview's idle-lane warning reads it). */
describe('lane activity', () => {
  let stack: TestStack;
  let project: StackFixture['project'];
  let redis: StackRedis;
  useStack((started) => ({ stack, project, redis } = started));

  const activity = () => new LaneActivity(redis.redis, String(stack.env['QUEUE_PREFIX'])).read();

  it('stamps the queues a job went through: its family, the embedding chunks, the webhook deliveries', async () => {
    const before = Date.now();
    const image = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'a stamped fox' } });
    expect(image.status).toBe('succeeded');
    const batch = await stack.runJob(project.key, { type: 'embedding.batch', input: { inputs: ['one', 'two'] } });
    expect(batch.status).toBe('succeeded');
    // a delivery is taken from its queue whatever the receiver answers (here the API's 404)
    await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'hooked' }, webhook_url: `${stack.apiUrl}/no-such-hook` } });

    const seen = await pollUntil('a stamp for the webhook queue', async () => {
      const stamps = await activity();
      return stamps['webhook-deliver'] === undefined ? undefined : stamps;
    });
    const after = Date.now();
    for (const queue of ['job-image', 'job-embedding', 'embedding-chunk', 'webhook-deliver']) {
      expect({ queue, stampedInRun: seen[queue]! >= before && seen[queue]! <= after }).toEqual({ queue, stampedInRun: true });
    }
    // queues no job came from carry no stamp
    expect(seen['job-video']).toBeUndefined();
  }, 60_000);
});
