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

  it('adds jobs enqueued in the same turn together (one fair-share script, one pipeline), a bad one failing alone', async () => {
    const ids = Array.from({ length: 6 }, () => newId('job'));
    const scripts: string[] = [];
    const batches: string[] = [];
    const { sendCommand, multi, pipeline } = redis;
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      if (command.name === 'evalsha' || command.name === 'eval') scripts.push(command.name);
      return (sendCommand as (...a: unknown[]) => unknown).call(redis, command, ...rest);
    }) as typeof redis.sendCommand;
    redis.multi = ((...args: unknown[]) => {
      batches.push('multi');
      return (multi as (...a: unknown[]) => unknown).apply(redis, args);
    }) as typeof redis.multi;
    redis.pipeline = ((...args: unknown[]) => {
      batches.push('pipeline');
      return (pipeline as (...a: unknown[]) => unknown).apply(redis, args);
    }) as typeof redis.pipeline;
    let results: PromiseSettledResult<void>[];
    try {
      results = await Promise.allSettled([...ids, 'not-a-job-id'].map((jobId) => queues.enqueue('video', jobId, { ...options, projectId: `prj_${jobId.slice(-4)}` })));
    } finally {
      Object.assign(redis, { sendCommand, multi, pipeline });
    }
    expect(results.map((r) => r.status)).toEqual([...ids.map(() => 'fulfilled'), 'rejected']);
    for (const jobId of ids) expect((await queues.queue('video').getJob(jobId))?.data).toEqual({ jobId });
    // alone, each job is a fair-share script and an add of its own (12 scripts, 6 round trips for
    // the adds); together, one fair-share script and the six adds in one pipeline
    expect(scripts).toHaveLength(1 + ids.length);
    expect(batches).toHaveLength(1);
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

  it('sends the signals announced while a publish is in flight in one message, and hands each to its listeners', async () => {
    const channel = `gqtest-${randomBytes(4).toString('hex')}:job-events`;
    const publisher = createRedis(testRedisUrl(), 'worker');
    const subscriber = createRedis(testRedisUrl(), 'worker');
    const counter = createRedis(testRedisUrl(), 'worker');
    const receiverPublisher = createRedis(testRedisUrl(), 'worker');
    const all = [publisher, subscriber, counter, receiverPublisher];
    await Promise.all(all.map((r) => new Promise<void>((resolve) => (r.status === 'ready' ? resolve() : r.once('ready', () => resolve())))));
    try {
      const messages: string[] = [];
      const twoMessages = new Promise<void>((resolve) => {
        counter.on('message', (_channel: string, message: string) => {
          messages.push(message);
          if (messages.length === 2) resolve();
        });
      });
      await counter.subscribe(channel);
      const sender = new JobEventBus(publisher, null, channel);
      const receiver = new JobEventBus(receiverPublisher, subscriber, channel);
      const seen: JobSignal[] = [];
      const ids = Array.from({ length: 10 }, (_, i) => `job_${i}`);
      const got = new Promise<void>((resolve) => {
        for (const id of [...ids, 'job_alone']) void receiver.listen(id, (s) => (seen.push(s), seen.length === ids.length + 1 && resolve()));
      });
      await receiver.listen('warm-up', () => undefined);
      // the bus subscribes without waiting; subscribing again (a no-op in Redis) waits for it here
      await subscriber.subscribe(channel);
      // ten changes announced in one turn (a grouped statement answers many jobs at once), then one alone
      await Promise.all(ids.map((id, seq) => sender.announce({ job: { id, projectId: 'prj_B', status: 'running' }, event: { seq, type: 'job.started' } })));
      await sender.announce({ job: { id: 'job_alone', projectId: 'prj_B', status: 'succeeded' }, event: { seq: 3, type: 'job.succeeded' } });
      await Promise.all([got, twoMessages]);
      expect(seen.map((s) => s.jobId).sort()).toEqual([...ids, 'job_alone'].sort());
      expect(seen.find((s) => s.jobId === 'job_3')).toEqual({ jobId: 'job_3', projectId: 'prj_B', seq: 3, status: 'running', type: 'job.started' });
      // the ten went as one message (an array), the lone one as an object
      expect(messages.map((m) => (Array.isArray(JSON.parse(m)) ? JSON.parse(m).length : 'object'))).toEqual([10, 'object']);
    } finally {
      for (const r of all) r.disconnect();
    }
  });
});
