import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { newId } from '@genqueue/core';
import { testRedisUrl } from '@genqueue/testing';
import { chunkQueueJobId, createRedis, EmbeddingChunkQueue } from '../src';

/** Putting back the open chunks of a batch, on a real Redis and BullMQ. */
describe('EmbeddingChunkQueue.requeue', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  const options = { maxAttempts: 1, backoffDelayMs: 100 };
  let redis: Redis;
  let chunks: EmbeddingChunkQueue;
  let worker: Worker;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
    chunks = new EmbeddingChunkQueue(redis, prefix);
    // takes jobs by hand (no processor runs): a job it holds is active, and it fails them on demand
    worker = new Worker(chunks.queue.name, null, { connection: redis, prefix: chunks.queue.opts.prefix, autorun: false });
  });

  beforeEach(async () => {
    await chunks.queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await worker.close();
    await chunks.queue.obliterate({ force: true });
    await chunks.close();
    redis.disconnect();
  });

  /** Takes the next chunk job and fails it, as BullMQ does after `stalls` deaths of its worker (with 0: a failed run). */
  async function failNext(stalls: number): Promise<string> {
    const token = randomBytes(8).toString('hex');
    const job = (await worker.getNextJob(token))!;
    if (stalls > 0) await redis.hset(`${chunks.queue.opts.prefix}:${chunks.queue.name}:${job.id}`, 'stc', stalls);
    await job.moveToFailed(new Error(stalls > 0 ? 'job stalled more than allowable limit' : 'failed'), token, false);
    return job.id!;
  }

  it('puts back a chunk whose job failed or was lost, leaves a live one, and answers the ones that crashed their workers too often', async () => {
    const jobId = newId('job');
    await chunks.enqueue(jobId, [0], options);
    expect(await failNext(2)).toBe(chunkQueueJobId(jobId, 0));
    await chunks.enqueue(jobId, [1], options);
    expect(await failNext(0)).toBe(chunkQueueJobId(jobId, 1));
    await chunks.enqueue(jobId, [2], options);
    // chunk 3's job was lost (never in Redis)

    const { crashed } = await chunks.requeue(jobId, [0, 1, 2, 3], options, 2);
    expect(crashed).toEqual([0]);
    const state = async (index: number) => (await chunks.queue.getJob(chunkQueueJobId(jobId, index)))?.getState();
    expect(await state(0)).toBe('failed');
    expect(await state(1)).toBe('waiting');
    expect(await state(2)).toBe('waiting');
    expect(await state(3)).toBe('waiting');
  });

  it('without a crash limit, puts back every chunk whose job ended', async () => {
    const jobId = newId('job');
    await chunks.enqueue(jobId, [0], options);
    expect(await failNext(5)).toBe(chunkQueueJobId(jobId, 0));
    expect((await chunks.requeue(jobId, [0], options)).crashed).toEqual([]);
    expect(await (await chunks.queue.getJob(chunkQueueJobId(jobId, 0)))?.getState()).toBe('waiting');
  });
});
