import type { Settings } from '@genqueue/config';
import { JOB_FAMILIES } from '@genqueue/core';
import {
  ApiKeysRepository,
  checkMetricsAccess,
  JobAttemptsRepository,
  OperationalQueries,
  type Db,
  type JobAttemptEntry,
  type PrismaClient,
} from '@genqueue/db';
import {
  EmbeddingChunkQueue,
  EMBEDDING_CHUNK_QUEUE,
  isRedisReady,
  queueNameFor,
  WEBHOOK_DELIVER_QUEUE,
  WebhookDeliveryQueue,
  type GatewayLaneGovernor,
  type JobEventBus,
  type JobQueues,
  type ProjectWaitingRoom,
} from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { startWorkerHttp } from '../http/worker-http';
import type { SweepReport } from '../sweeper';
import { readGatewayBalanceGauge } from '../costs/balance-gauge';
import { registerCollectors } from './collectors';
import { WorkerMetrics } from './worker-metrics';

/** The attempt log, counting each failed run by job type, outcome and error code as it is recorded. */
export class MeteredJobAttempts extends JobAttemptsRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly metrics: WorkerMetrics,
  ) {
    super(prisma);
  }

  override async record(entry: JobAttemptEntry, tx?: Db): Promise<void> {
    await super.record(entry, tx);
    const type = this.metrics.knownType(entry.jobId);
    if (type !== undefined) return this.metrics.failedRun(entry, type);
    // a run this process did not start (a stalled job taken over): one small read, off the run's path
    this.prisma.job
      .findUnique({ where: { id: entry.jobId }, select: { type: true } })
      .then((row) => this.metrics.failedRun(entry, row?.type ?? 'other'))
      .catch(() => this.metrics.failedRun(entry, 'other'));
  }
}

/** The gateway client, counting status polls of parked tasks and the size of each batched MJ poll. */
export function observedUpstream(upstream: UpstreamClient, metrics: WorkerMetrics): UpstreamClient {
  const { videos, mj } = upstream;
  return {
    ...upstream,
    videos: {
      ...videos,
      get: (id, options) => {
        metrics.taskPolls.inc({ kind: 'video' });
        return videos.get(id, options);
      },
    },
    mj: {
      ...mj,
      fetch: (id, options) => {
        metrics.taskPolls.inc({ kind: 'mj' });
        return mj.fetch(id, options);
      },
      listByCondition: (ids, options) => {
        metrics.taskPolls.inc({ kind: 'mj' }, ids.length);
        metrics.mjPollBatch.observe(ids.length);
        return mj.listByCondition(ids, options);
      },
    },
  };
}

/** The project waiting room, counting jobs that join it (a start refused by max_running_jobs). */
export function observedWaitingRoom(room: ProjectWaitingRoom, metrics: WorkerMetrics): Pick<ProjectWaitingRoom, 'wait' | 'wakeOne'> {
  return {
    wait: (projectId, queueName, queueJobId) => {
      metrics.projectLimitWaits.inc({ queue: queueName });
      return room.wait(projectId, queueName, queueJobId);
    },
    wakeOne: (projectId) => room.wakeOne(projectId),
  };
}

/** A sweeper tick that counts what it repaired (or that it failed). */
export function observedSweep(metrics: WorkerMetrics, sweep: () => Promise<SweepReport>): () => Promise<SweepReport> {
  return async () => {
    try {
      const report = await sweep();
      metrics.sweep(report);
      return report;
    } catch (err) {
      metrics.sweeperRuns.inc({ result: 'error' });
      throw err;
    }
  };
}

export type ObservabilityInput = {
  settings: Settings;
  metrics: WorkerMetrics;
  prisma: PrismaClient;
  /** a connection for commands (not a SUBSCRIBE or blocking one) */
  redis: Redis;
  queues: JobQueues;
  gate: Pick<GatewayLaneGovernor, 'status'>;
  events: JobEventBus;
  upstream: UpstreamClient;
  logger: Logger;
};

export type Observability = { httpPort: number | null; close(): Promise<void> };

/**
 * Hooks the metrics into the event bus and the gateway client, registers the scrape-time gauges,
 * and serves /metrics, /healthz and /readyz on WORKER_HTTP_PORT (none when it is 0).
 */
export async function startObservability(input: ObservabilityInput): Promise<Observability> {
  const { settings, metrics, prisma, redis, logger } = input;
  input.events.observe((change) => metrics.jobChange(change));
  input.upstream.http.setObserver((observation) => metrics.upstreamRequest(observation));

  const onError = (err: Error): void => logger.debug({ err }, 'queue.redis_error');
  const chunkQueue = new EmbeddingChunkQueue(redis, settings.QUEUE_PREFIX, onError);
  const deliveryQueue = new WebhookDeliveryQueue(redis, settings.QUEUE_PREFIX, onError);
  registerCollectors(metrics, {
    queues: [
      ...JOB_FAMILIES.map((family) => ({ name: queueNameFor(family), queue: input.queues.queue(family), maxPerMinute: settings.lanes[family].requestsPerMinute })),
      { name: EMBEDDING_CHUNK_QUEUE, queue: chunkQueue.queue, maxPerMinute: settings.lanes.embedding.requestsPerMinute },
      { name: WEBHOOK_DELIVER_QUEUE, queue: deliveryQueue.queue },
    ],
    redis,
    governor: input.gate,
    figures: () => new OperationalQueries(prisma).figures(),
    balance: () => readGatewayBalanceGauge(prisma),
  });

  const apiKeys = new ApiKeysRepository(prisma);
  const http =
    settings.workerHttpPort > 0
      ? await startWorkerHttp({
          port: settings.workerHttpPort,
          host: settings.HOST,
          authorize: (authorization) => checkMetricsAccess(apiKeys, authorization, settings.METRICS_TOKEN),
          metrics,
          checks: { postgres: () => postgresReady(prisma), redis: () => isRedisReady(redis) },
          logger,
        })
      : null;
  return {
    httpPort: http?.port ?? null,
    async close() {
      await http?.close();
      await Promise.all([chunkQueue.close(), deliveryQueue.close()].map((p) => p.catch(() => undefined)));
    },
  };
}

async function postgresReady(prisma: PrismaClient, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      prisma.$queryRaw`SELECT 1`.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
