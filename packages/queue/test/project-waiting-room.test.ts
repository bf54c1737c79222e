import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { newId } from '@genqueue/core';
import { testRedisUrl } from '@genqueue/testing';
import { createRedis, JobEventBus, ProjectWaitingRoom, queuePrefix } from '../src';

/** The waiting room of projects at their running limit, on a real Redis and BullMQ. */
describe('ProjectWaitingRoom', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let queue: Queue;
  let room: ProjectWaitingRoom;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
    queue = new Queue('job-image', { connection: redis, prefix: queuePrefix(prefix, 'job-image') });
    room = new ProjectWaitingRoom(redis, prefix);
  });

  afterAll(async () => {
    await room.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await redis.del(...(await redis.keys(`${prefix}:project-waiting:*`)), `${prefix}:none`);
    redis.disconnect();
  });

  const delayed = async (): Promise<string> => {
    const id = newId('job');
    await queue.add('run', { jobId: id }, { jobId: id, delay: 600_000 });
    return id;
  };

  it('wakes the longest-waiting delayed job of the project, skipping entries that are no longer delayed', async () => {
    const projectId = newId('prj');
    const [gone, stale, next, last] = [await delayed(), await delayed(), await delayed(), await delayed()];
    for (const id of [gone, stale, next, last]) await room.wait(projectId, 'job-image', id);
    // a second wait keeps the job's first place
    await room.wait(projectId, 'job-image', gone);
    await (await queue.getJob(gone))!.remove();
    await (await queue.getJob(stale))!.promote();

    expect(await room.wakeOne(projectId)).toBe(true);
    expect(await queue.getJobState(next)).toBe('waiting');
    expect(await queue.getJobState(last)).toBe('delayed');
    expect(await room.wakeOne(projectId)).toBe(true);
    expect(await queue.getJobState(last)).toBe('waiting');
    expect(await room.wakeOne(projectId)).toBe(false);
  });

  it('serves slots freed in the same turn with one pop per project, oldest first, each caller its own answer', async () => {
    const [busy, idle] = [newId('prj'), newId('prj')];
    const waiting = [await delayed(), await delayed(), await delayed()];
    for (const id of waiting) await room.wait(busy, 'job-image', id);
    const pops: unknown[][] = [];
    const zpopmin = redis.zpopmin.bind(redis);
    redis.zpopmin = ((...args: unknown[]) => {
      pops.push(args);
      return (zpopmin as (...a: unknown[]) => unknown)(...args);
    }) as typeof redis.zpopmin;
    try {
      // four slots of the busy project (three wait) and two of a project where nobody waits
      const answers = await Promise.all([busy, idle, busy, busy, idle, busy].map((projectId) => room.wakeOne(projectId)));
      expect(answers).toEqual([true, false, true, true, false, false]);
    } finally {
      redis.zpopmin = zpopmin;
    }
    for (const id of waiting) expect(await queue.getJobState(id)).toBe('waiting');
    // one pop of up to four for the busy project, then one that finds it empty; one for the idle one
    expect(pops.map(([key, count]) => [String(key).endsWith(busy) ? 'busy' : 'idle', count]).sort()).toEqual([
      ['busy', 1],
      ['busy', 4],
      ['idle', 2],
    ]);
  });

  it('is told of every final status by the event bus, and of nothing else', async () => {
    const released: string[] = [];
    const bus = new JobEventBus(redis, null, `${prefix}:none`);
    bus.setSlotReleaser(async (projectId) => released.push(projectId));
    const change = (status: string) => ({ job: { id: newId('job'), projectId: `prj-${status}`, status }, event: { seq: 2, type: `job.${status}` } });
    for (const status of ['running', 'queued', 'succeeded', 'failed', 'canceled', 'expired']) await bus.announce(change(status));
    expect(released).toEqual(['prj-succeeded', 'prj-failed', 'prj-canceled', 'prj-expired']);
  });
});
