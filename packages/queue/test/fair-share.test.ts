import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { newId } from '@genqueue/core';
import { testRedisUrl } from '@genqueue/testing';
import { createRedis, fairShareKey, JobQueues, userPriorityOf } from '../src';

/** The fair-share priorities against a real Redis and BullMQ: the order jobs would start in. */
describe('fair sharing of a lane', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  const weights = new Map<string, number>();
  let redis: Redis;
  let queues: JobQueues;
  const options = { maxAttempts: 3, backoffDelayMs: 100 };

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
    queues = new JobQueues(redis, prefix, () => undefined, { isEnabled: true, weightOf: async (projectId) => weights.get(projectId) ?? 1 });
  });

  afterEach(async () => {
    for (const family of ['image', 'audio'] as const) await queues.queue(family).obliterate({ force: true });
    await redis.del(fairShareKey(queues.queue('image').opts.prefix!), fairShareKey(queues.queue('audio').opts.prefix!));
  });

  afterAll(async () => {
    await queues.close();
    redis.disconnect();
  });

  /** Projects' jobs in the order BullMQ hands them to workers: one letter per job. */
  async function startOrder(owners: Map<string, string>, family: 'image' | 'audio' = 'image'): Promise<string> {
    const jobs = await queues.queue(family).getPrioritized(0, -1);
    return jobs.map((job) => owners.get(job.id!)).join('');
  }

  async function submit(family: 'image' | 'audio', owners: Map<string, string>, letter: string, projectId: string, count: number, priority = 5): Promise<string[]> {
    const ids = Array.from({ length: count }, () => newId('job'));
    for (const id of ids) owners.set(id, letter);
    await queues.enqueueMany(family, ids.map((jobId) => ({ jobId, options: { ...options, projectId, priority } })));
    return ids;
  }

  it('interleaves a trickle 1:1 with a flood enqueued before it', async () => {
    const owners = new Map<string, string>();
    await submit('image', owners, 'A', 'prj_a', 20);
    // one by one, as a client trickles: each lands behind the lane's head (the job about to start)
    for (let i = 0; i < 5; i += 1) await submit('image', owners, 'B', 'prj_b', 1);
    expect(await startOrder(owners)).toBe(`A${'AB'.repeat(5)}${'A'.repeat(14)}`);
  });

  it('gives a weight-3 project three starts for each start of a weight-1 project', async () => {
    weights.set('prj_heavy', 3);
    const owners = new Map<string, string>();
    await submit('image', owners, 'L', 'prj_light', 40);
    await submit('image', owners, 'H', 'prj_heavy', 60);
    const order = await startOrder(owners);
    // every window of 20 starts while both have work: 15 heavy, 5 light (±1 at a window's edges)
    for (let from = 0; from + 20 <= 80; from += 20) {
      const heavy = [...order.slice(from, from + 20)].filter((c) => c === 'H').length;
      expect(heavy).toBeGreaterThanOrEqual(14);
      expect(heavy).toBeLessThanOrEqual(16);
    }
  });

  it('places a newcomer at the lane head as jobs start, with no credit for its idle time', async () => {
    const owners = new Map<string, string>();
    const flood = await submit('image', owners, 'A', 'prj_a', 50);
    // the first 30 of the flood started (left the queue)
    for (const id of flood.slice(0, 30)) await queues.queue('image').remove(id);
    for (let i = 0; i < 3; i += 1) await submit('image', owners, 'B', 'prj_b', 1);
    // behind the head (A's 31st) and its peer: not in front of the lane (idle time saves no credit)
    expect((await startOrder(owners)).slice(0, 8)).toBe('AABABABA');
  });

  it('does not hold a project that had the lane alone behind newcomers once the lane drained', async () => {
    const owners = new Map<string, string>();
    const first = await submit('image', owners, 'A', 'prj_a', 40);
    for (const id of first) await queues.queue('image').remove(id);
    await submit('image', owners, 'A', 'prj_a', 3);
    await submit('image', owners, 'B', 'prj_b', 3);
    // A's first new job is the head; from there they alternate (A is not sent behind its 40 past jobs)
    expect(await startOrder(owners)).toBe('AABABB');
  });

  it('keeps the user priority a strict band across projects', async () => {
    const owners = new Map<string, string>();
    await submit('image', owners, 'A', 'prj_a', 10, 1);
    const [late] = await submit('image', owners, 'B', 'prj_b', 1, 5);
    const [urgent] = await submit('image', owners, 'C', 'prj_b', 1, 1);
    expect(await startOrder(owners)).toBe('AACAAAAAAAAB');
    const queue = queues.queue('image');
    expect(userPriorityOf((await queue.getJob(late!))!.priority)).toBe(5);
    expect(userPriorityOf((await queue.getJob(urgent!))!.priority)).toBe(1);
  });

  it('keeps lanes apart: a flood on one lane does not push another lane’s jobs back', async () => {
    const owners = new Map<string, string>();
    await submit('image', owners, 'A', 'prj_a', 30);
    await submit('audio', owners, 'B', 'prj_b', 4);
    await submit('audio', owners, 'A', 'prj_a', 2);
    // A's 30 image jobs ahead count on the image lane only (else A's audio jobs would come last)
    expect(await startOrder(owners, 'audio')).toBe('BBABAB');
  });

  it('with fair sharing off, jobs keep their user priority and come FIFO', async () => {
    const fifo = new JobQueues(redis, prefix, () => undefined, { isEnabled: false, weightOf: async () => 1 });
    try {
      const owners = new Map<string, string>();
      const ids = [...Array.from({ length: 5 }, () => ['A', 'prj_a']), ...Array.from({ length: 2 }, () => ['B', 'prj_b'])].map(([letter, projectId]) => {
        const id = newId('job');
        owners.set(id, letter!);
        return { jobId: id, options: { ...options, projectId: projectId!, priority: 5 } };
      });
      await fifo.enqueueMany('image', ids);
      expect(await startOrder(owners)).toBe('AAAAABB');
      expect((await fifo.queue('image').getJob(ids[0]!.jobId))!.priority).toBe(5);
    } finally {
      await fifo.close();
    }
  });
});
