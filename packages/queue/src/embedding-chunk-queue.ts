import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { assertRedisReady } from './redis';
import { EMBEDDING_CHUNK_QUEUE, EmbeddingChunkRefSchema, JITTER_BACKOFF, queueNameFor, queueOptions } from './catalog';

export type ChunkEnqueueOptions = { priority?: number; maxAttempts: number; backoffDelayMs: number };

/** WARNING: persisted: BullMQ ids of chunk jobs (BullMQ forbids ':' in custom ids). */
export const chunkQueueJobId = (jobId: string, index: number): string => `${jobId}-c${index}`;

const ADD_PAGE = 500;
const WAKE_TRIES = 10;
const WAKE_RETRY_MS = 200;

/** Producer side of the `embedding-chunk` queue, and the wake-up of a batch parked while its chunks run. */
export class EmbeddingChunkQueue {
  readonly queue: Queue;
  private readonly parents: Queue;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    onError: (err: Error) => void = () => undefined,
  ) {
    this.queue = new Queue(EMBEDDING_CHUNK_QUEUE, queueOptions(connection, prefix, EMBEDDING_CHUNK_QUEUE));
    const parents = queueNameFor('embedding');
    this.parents = new Queue(parents, queueOptions(connection, prefix, parents));
    for (const q of [this.queue, this.parents]) q.on('error', onError);
  }

  /** Adds chunk jobs; an id still in Redis is left alone, so re-adding after a crash is safe. */
  async enqueue(jobId: string, indexes: readonly number[], options: ChunkEnqueueOptions): Promise<void> {
    assertRedisReady(this.connection);
    for (let start = 0; start < indexes.length; start += ADD_PAGE) {
      await this.queue.addBulk(
        indexes.slice(start, start + ADD_PAGE).map((index) => ({
          name: 'chunk',
          data: EmbeddingChunkRefSchema.parse({ jobId, index }),
          opts: {
            jobId: chunkQueueJobId(jobId, index),
            priority: options.priority,
            attempts: options.maxAttempts,
            backoff: { type: JITTER_BACKOFF, delay: options.backoffDelayMs },
          },
        })),
      );
    }
  }

  /**
   * Puts back chunks whose rows are still open. A chunk job that ended in Redis (its attempts spent
   * while Postgres was unreachable, completed when the row's final write failed, or failed by BullMQ
   * after its worker died under it) would keep its id and make a plain re-add a no-op, leaving the
   * batch waiting until its deadline: such a job is stale (the row is the truth), so it is removed
   * first. Waiting, delayed and active ones stay. A job failed for stalling `crashLimit` times (its
   * worker died under it that often: WORKER_CRASH_LIMIT) is not put back; its index is answered in
   * `crashed`, for the caller to fail the chunk.
   */
  async requeue(jobId: string, indexes: readonly number[], options: ChunkEnqueueOptions, crashLimit = Number.POSITIVE_INFINITY): Promise<{ crashed: number[] }> {
    assertRedisReady(this.connection);
    const crashed: number[] = [];
    for (const index of indexes) {
      const job = await this.queue.getJob(chunkQueueJobId(jobId, index));
      if (!job) continue;
      const state = await job.getState();
      if (state === 'failed' && job.stalledCounter >= crashLimit) crashed.push(index);
      else if (state === 'failed' || state === 'completed') await job.remove().catch(() => undefined);
    }
    await this.enqueue(
      jobId,
      indexes.filter((index) => !crashed.includes(index)),
      options,
    );
    return { crashed };
  }

  /** Best effort: takes waiting chunk jobs out (a worker that holds one sees the canceled parent and stops). */
  async remove(jobId: string, indexes: readonly number[]): Promise<number> {
    let removed = 0;
    for (const index of indexes) {
      try {
        removed += await this.queue.remove(chunkQueueJobId(jobId, index));
      } catch {
        // locked by a worker: it ends on its own
      }
    }
    return removed;
  }

  /**
   * Moves the parked parent job forward now. The parent may still be active (it parks right after
   * its last check): a few short tries cover that window; its own park timer covers the rest.
   */
  async wakeParent(jobId: string): Promise<'woken' | 'not_parked'> {
    for (let attempt = 0; attempt < WAKE_TRIES; attempt += 1) {
      const job = await Job.fromId(this.parents, jobId);
      if (!job) return 'not_parked';
      const state = await job.getState();
      if (state === 'delayed') {
        try {
          await job.promote();
          return 'woken';
        } catch {
          // it moved meanwhile: look again
        }
      } else if (state !== 'active') {
        return 'not_parked';
      }
      await new Promise((resolve) => setTimeout(resolve, WAKE_RETRY_MS));
    }
    return 'not_parked';
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.parents.close()]);
  }
}
