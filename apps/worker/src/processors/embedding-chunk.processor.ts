import { DelayedError, Worker, type Job as BullJob, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EMBEDDING_CHUNK_QUEUE, EmbeddingChunkRefSchema, JITTER_BACKOFF } from '@genqueue/queue';
import type { ChunkRunner } from '../embeddings/chunk-runner';
import { rateLimitPause } from './job.processor';

export type ChunkProcessorDeps = {
  runner: ChunkRunner;
  /** the chunk queue: a 429 pauses all of it */
  queue: Queue;
  rateLimitPauseMs: number;
  shutdownSignal: AbortSignal;
};

const LATER_MS = 1_000;

/** The BullMQ edge of embedding chunks. */
export function embeddingChunkProcessor(deps: ChunkProcessorDeps) {
  return async (bullJob: BullJob, token?: string): Promise<void> => {
    const ref = EmbeddingChunkRefSchema.parse(bullJob.data);
    const isLastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1);
    const outcome = await deps.runner.run(ref, { isLastAttempt, signal: deps.shutdownSignal });
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        throw new Error(outcome.error.message);
      case 'rate_limited': {
        const pauseMs = rateLimitPause(deps.rateLimitPauseMs);
        await deps.queue.rateLimit(pauseMs);
        await bullJob.moveToDelayed(Date.now() + pauseMs, token);
        throw new DelayedError();
      }
      case 'later':
        await bullJob.moveToDelayed(Date.now() + LATER_MS, token);
        throw new DelayedError();
    }
  };
}

/**
 * The gateway counts a minute from each request's arrival (a sliding log); BullMQ's window starts
 * when it hands out the first job. A small margin keeps the next window's burst from arriving early.
 */
export const LIMITER_MARGIN = 1.01;

/**
 * Paces chunks evenly (about one second's share per window) instead of the whole minute's
 * allowance in one burst: the gateway sees a steady rate and no window edge to collide with.
 */
export function paceLimiter(requestsPerMinute: number): { max: number; duration: number } {
  const max = Math.max(1, Math.ceil(requestsPerMinute / 60));
  return { max, duration: Math.round(((60_000 * max) / requestsPerMinute) * LIMITER_MARGIN) };
}

export type ChunkWorkerOptions = {
  connection: Redis;
  prefix: string;
  queue: Queue;
  runner: ChunkRunner;
  concurrency: number;
  requestsPerMinute: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  rateLimitPauseMs: number;
  shutdownSignal: AbortSignal;
  backoff: (attemptsMade: number) => number;
};

/** One worker on the chunk queue, under the embedding lane's concurrency and requests per minute. */
export function createEmbeddingChunkWorker(options: ChunkWorkerOptions): Worker {
  return new Worker(
    EMBEDDING_CHUNK_QUEUE,
    embeddingChunkProcessor({
      runner: options.runner,
      queue: options.queue,
      rateLimitPauseMs: options.rateLimitPauseMs,
      shutdownSignal: options.shutdownSignal,
    }),
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      limiter: paceLimiter(options.requestsPerMinute),
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === JITTER_BACKOFF ? options.backoff(attemptsMade) : 0),
      },
    },
  );
}
