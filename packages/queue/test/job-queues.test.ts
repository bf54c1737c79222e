import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_FAMILIES, newId } from '@genqueue/core';
import { testRedisUrl } from '@genqueue/testing';
import { ALL_QUEUE_NAMES, createRedis, JOB_QUEUE_NAMES, JobEventBus, JobQueues, MAINTENANCE_QUEUE, QUEUE_EVENTS_MAX_LEN, RedisUnavailableError, userPriorityOf, type JobSignal } from '../src';

/** The producer side against a real Redis, under a prefix of its own. */
describe('JobQueues', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let queues: JobQueues;
  const options = { projectId: 'prj_test', maxAttempts: 3, backoffDelayMs: 100 };

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
    queues = new JobQueues(redis, prefix);
  });

  afterAll(async () => {
    await queues.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('keeps the persisted queue names', () => {
    expect(JOB_QUEUE_NAMES).toEqual({ image: 'job-image', video: 'job-video', mj: 'job-mj', audio: 'job-audio', embedding: 'job-embedding' });
    expect(ALL_QUEUE_NAMES).toEqual(['job-image', 'job-video', 'job-mj', 'job-audio', 'job-embedding', MAINTENANCE_QUEUE]);
  });

  it('adds a job once under its row id, with the retry policy', async () => {
    const jobId = newId('job');
    await queues.enqueue('image', jobId, { ...options, priority: 3 });
    await queues.enqueue('image', jobId, { ...options, priority: 3 });
    const job = await queues.queue('image').getJob(jobId);
    expect(job?.data).toEqual({ jobId });
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential-jitter', delay: 100 } });
    // the user priority is the band of the fair-share priority
    expect(userPriorityOf(job!.opts.priority!)).toBe(3);
    const counts = await queues.queue('image').getJobCounts('waiting', 'prioritized');
    expect(counts['waiting']! + counts['prioritized']!).toBe(1);
  });

  it('stores no retention options on a queued job and caps the queue\'s event stream (Redis bytes per queued job)', async () => {
    const jobId = newId('job');
    await queues.enqueue('audio', jobId, options);
    const stored = JSON.parse(String(await redis.hget(`${queues.queue('audio').opts.prefix}:job-audio:${jobId}`, 'opts'))) as Record<string, unknown>;
    expect(stored).not.toHaveProperty('removeOnComplete');
    expect(stored).not.toHaveProperty('removeOnFail');
    await queues.queue('audio').waitUntilReady();
    expect(await redis.hget(`${queues.queue('audio').opts.prefix}:job-audio:meta`, 'opts.maxLenEvents')).toBe(String(QUEUE_EVENTS_MAX_LEN));
    expect(QUEUE_EVENTS_MAX_LEN).toBeLessThan(10_000);
  });

  it('refuses payloads that are not job ids', async () => {
    await expect(queues.enqueue('image', 'not-a-job-id', options)).rejects.toThrow();
  });

  it('fails fast instead of queueing commands while Redis is away', async () => {
    const offline = createRedis('redis://127.0.0.1:1', 'producer', { lazyConnect: true, retryStrategy: () => null });
    const producer = new JobQueues(offline, prefix);
    // JobQueues leaves its Queues' 'error' events unhandled (BullMQ then logs them to the console)
    for (const queue of [...JOB_FAMILIES.map((f) => producer.queue(f)), producer.maintenance]) queue.on('error', () => undefined);
    await expect(producer.enqueue('image', newId('job'), options)).rejects.toBeInstanceOf(RedisUnavailableError);
    offline.disconnect();
  });

  it('tells live work from no work, and clears a finished leftover so the id can be added again', async () => {
    const jobId = newId('job');
    expect(await queues.isLive('audio', jobId)).toBe(false);
    await queues.enqueue('audio', jobId, options);
    expect(await queues.isLive('audio', jobId)).toBe(true);

    const worker = new Worker(JOB_QUEUE_NAMES.audio, async () => 'ok', { connection: redis, prefix: queues.queue('audio').opts.prefix });
    await new Promise<void>((resolve) => worker.on('completed', (job) => job.id === jobId && resolve()));
    await worker.close();
    expect(await queues.queue('audio').getJobState(jobId)).toBe('completed');

    expect(await queues.isLive('audio', jobId)).toBe(false);
    expect(await queues.queue('audio').getJobState(jobId)).toBe('unknown');
    await queues.enqueue('audio', jobId, options);
    expect(await queues.isLive('audio', jobId)).toBe(true);
  });

  it('removes an idle job, and leaves one a worker holds', async () => {
    const idle = newId('job');
    await queues.enqueue('mj', idle, options);
    expect(await queues.removeIfIdle('mj', idle)).toBe(true);
    expect(await queues.queue('mj').getJobState(idle)).toBe('unknown');

    const held = newId('job');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const isActive = new Promise<void>((resolve) => (started = resolve));
    const worker = new Worker(
      JOB_QUEUE_NAMES.mj,
      async () => {
        started();
        await released;
      },
      { connection: redis, prefix: queues.queue('mj').opts.prefix },
    );
    await queues.enqueue('mj', held, options);
    await isActive;
    expect(await queues.removeIfIdle('mj', held)).toBe(false);
    expect(await queues.queue('mj').getJobState(held)).toBe('active');
    release();
    await worker.close();
  });
});

describe('JobEventBus', () => {
  it('carries a committed change to listeners of the job and of its project, on other connections', async () => {
    const channel = `gqtest-${randomBytes(4).toString('hex')}:job-events`;
    const publisher = createRedis(testRedisUrl(), 'worker');
    const subscriber = createRedis(testRedisUrl(), 'worker');
    const receiverPublisher = createRedis(testRedisUrl(), 'worker');
    await Promise.all([publisher, subscriber, receiverPublisher].map((r) => new Promise<void>((resolve) => (r.status === 'ready' ? resolve() : r.once('ready', () => resolve())))));
    try {
      const sender = new JobEventBus(publisher, null, channel);
      const receiver = new JobEventBus(receiverPublisher, subscriber, channel);
      const byJob: JobSignal[] = [];
      const byProject: JobSignal[] = [];
      const got = new Promise<void>((resolve) => {
        void receiver.listen('job_A', (s) => {
          byJob.push(s);
          if (byProject.length > 0) resolve();
        });
        void receiver.listen('prj_A', (s) => {
          byProject.push(s);
          if (byJob.length > 0) resolve();
        });
      });
      // let SUBSCRIBE land before publishing
      await receiver.listen('warm-up', () => undefined);
      await sender.announce(null);
      await sender.announce({ job: { id: 'job_A', projectId: 'prj_A', status: 'canceled' }, event: { seq: 4, type: 'job.canceled' } });
      await got;
      const expected = { jobId: 'job_A', projectId: 'prj_A', seq: 4, status: 'canceled', type: 'job.canceled' };
      expect(byJob).toEqual([expected]);
      expect(byProject).toEqual([expected]);
    } finally {
      for (const r of [publisher, subscriber, receiverPublisher]) r.disconnect();
    }
  });
});
