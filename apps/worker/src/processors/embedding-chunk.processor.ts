import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EMBEDDING_CHUNK_QUEUE, EmbeddingChunkRefSchema, FINISHED_RETENTION, JITTER_BACKOFF } from '@genqueue/queue';
import type { ChunkOutcome, ChunkRunner } from '../embeddings/chunk-runner';
import { outcomeProcessor, type BullmqOutcome, type OutcomeProcessorDeps } from './outcome-to-bullmq';

export type ChunkProcessorDeps = OutcomeProcessorDeps & { runner: ChunkRunner };

const LATER_MS = 1_000;

/** The BullMQ edge of embedding chunks. */
export function embeddingChunkProcessor(deps: ChunkProcessorDeps) {
  return outcomeProcessor(
    deps,
    (data) => EmbeddingChunkRefSchema.parse(data),
    async (ref, ctx) => toBullmq(await deps.runner.run(ref, ctx)),
  );
}

function toBullmq(outcome: ChunkOutcome): BullmqOutcome {
  return outcome.kind === 'later' ? { kind: 'delay', delayMs: LATER_MS } : outcome;
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
  /** the chunk queue; the worker takes its prefix (with the queue's hash tag) */
  queue: Queue;
  runner: ChunkRunner;
  concurrency: number;
  requestsPerMinute: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** a chunk goes back to the queue after each death of its worker, up to this many of them (WORKER_CRASH_LIMIT) */
  workerCrashLimit: number;
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
      prefix: options.queue.opts.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // BullMQ's default (one stall) failed a chunk on the second death of its worker, with the
      // chunk's row left open: the batch then waited on it for good
      maxStalledCount: options.workerCrashLimit - 1,
      limiter: paceLimiter(options.requestsPerMinute),
      ...FINISHED_RETENTION,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === JITTER_BACKOFF ? options.backoff(attemptsMade) : 0),
      },
    },
  );
}
