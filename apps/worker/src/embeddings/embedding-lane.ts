import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Settings } from '@genqueue/config';
import { EmbeddingChunksRepository, FilesRepository, type ArtifactsRepository, type JobsRepository, type PrismaClient } from '@genqueue/db';
import { EmbeddingChunkQueue, type JobEventBus } from '@genqueue/queue';
import type { ObjectStorage } from '@genqueue/storage';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import { createEmbeddingChunkWorker } from '../processors/embedding-chunk.processor';
import { ChunkRunner } from './chunk-runner';
import type { EmbeddingServices } from './embedding-services';

/** A parked batch looks at its chunks at least this often (the last chunk wakes it at once). */
const PARK_MS = 30_000;

export type EmbeddingLaneDeps = {
  settings: Settings;
  prisma: PrismaClient;
  /** a non-blocking connection for producing chunk jobs */
  producer: Redis;
  storage: ObjectStorage;
  jobs: JobsRepository;
  artifacts: ArtifactsRepository;
  events: JobEventBus;
  upstream: UpstreamClient;
  logger: Logger;
};

/** `embedding.batch` wiring of one worker process: the services of the batch handler and the chunk worker. */
export function createEmbeddingLane(deps: EmbeddingLaneDeps) {
  const { settings, logger } = deps;
  const chunkQueue = new EmbeddingChunkQueue(deps.producer, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'));
  const services: EmbeddingServices = {
    jobs: deps.jobs,
    chunks: new EmbeddingChunksRepository(deps.prisma),
    files: new FilesRepository(deps.prisma),
    artifacts: deps.artifacts,
    storage: deps.storage,
    chunkQueue,
    events: deps.events,
    retry: { maxAttempts: settings.JOB_MAX_ATTEMPTS, baseDelayMs: settings.RETRY_BASE_DELAY_MS },
    workerCrashLimit: settings.WORKER_CRASH_LIMIT,
    parkMs: PARK_MS,
    requestsPerMinute: settings.lanes.embedding.requestsPerMinute,
  };
  return {
    services,
    startWorker(options: { connection: Redis; shutdownSignal: AbortSignal; backoff: (attemptsMade: number) => number }): Worker {
      const lane = settings.lanes.embedding;
      const worker = createEmbeddingChunkWorker({
        connection: options.connection,
        queue: chunkQueue.queue,
        runner: new ChunkRunner(services, deps.upstream, logger),
        concurrency: lane.concurrency,
        requestsPerMinute: lane.requestsPerMinute,
        lockDurationMs: settings.WORKER_LOCK_MS,
        stalledIntervalMs: settings.WORKER_STALLED_INTERVAL_MS,
        workerCrashLimit: settings.WORKER_CRASH_LIMIT,
        rateLimitPauseMs: settings.RATE_LIMIT_PAUSE_MS,
        shutdownSignal: options.shutdownSignal,
        backoff: options.backoff,
      });
      worker.on('error', (err) => logger.warn({ err, family: 'embedding-chunk' }, 'worker.error'));
      return worker;
    },
    close: () => chunkQueue.close().catch(() => undefined),
  };
}
