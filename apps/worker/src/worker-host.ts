import { Worker, type Queue } from 'bullmq';
import { JOB_FAMILIES, type JobFamily } from '@genqueue/core';
import { gatewayLaneMaxPerMinute, type Settings } from '@genqueue/config';
import {
  AdvisoryLease,
  ArtifactsRepository,
  createPrismaClient,
  FilesRepository,
  JobsRepository,
  ProjectWeights,
  WebhookOutbox,
  type PrismaClient,
} from '@genqueue/db';
import {
  createRedis,
  FINISHED_RETENTION,
  GatewayLaneGovernor,
  JITTER_BACKOFF,
  JobEventBus,
  jobEventsChannel,
  JobQueues,
  LaneActivity,
  ProjectWaitingRoom,
  queueNameFor,
  RedisMemoryMarker,
} from '@genqueue/queue';
import { storageFromSettings } from '@genqueue/storage';
import { createUpstreamClient } from '@genqueue/upstream';
import { createGuardedDispatcher, webhookFanOut } from '@genqueue/webhooks';
import type { Logger } from 'pino';
import { JobRunner } from './job-runner';
import { MeteredJobAttempts, observedSweep, observedUpstream, observedWaitingRoom, startObservability } from './metrics/observability';
import { WorkerMetrics } from './metrics/worker-metrics';
import { ArtifactWriter } from './media/artifact-writer';
import { MediaResolver } from './media/media-resolver';
import { mediaLimitsFrom } from './media/media-budget';
import { jitteredBackoff, jobProcessor } from './processors/job.processor';
import { sweep, type SweeperDeps } from './sweeper';
import { SweepTimer } from './sweep-timer';
import { createRetentionTimer } from './retention/retention-timer';
import { startWebhookLane } from './webhooks/webhook-lane';
import { createTaskServices } from './tasks/task-services';
import { createEmbeddingLane } from './embeddings/embedding-lane';
import { startCostLedger } from './costs/cost-ledger';

/** The sweeper's lease (an advisory lock named so in Postgres). */
const SWEEP_LEASE_NAME = 'genqueue.sweeper';
/** The BullMQ job scheduler that ran the sweeper before every worker had a timer of its own. */
const LEGACY_SWEEP_SCHEDULER_ID = 'sweep';

export type WorkerHost = {
  workers: Worker[];
  /** the port of /metrics, /healthz and /readyz; null when WORKER_HTTP_PORT is 0 */
  httpPort: number | null;
  close(graceMs?: number): Promise<void>;
};

/** Families whose jobs are gateway tasks: submitted once, then parked and polled. */
const TASK_FAMILIES: readonly JobFamily[] = ['video', 'mj'];

/** The name in WORKER_QUEUES of the webhook delivery lane (beside the job families). */
export const WEBHOOKS_LANE = 'webhooks';

/**
 * What this process consumes: WORKER_QUEUES names job families and/or `webhooks`; unset, all of
 * them. (A process that runs no delivery lane still queues the deliveries its changes write.)
 */
export function lanesToRun(settings: Pick<Settings, 'WORKER_QUEUES'>): { families: JobFamily[]; webhooks: boolean } {
  if (!settings.WORKER_QUEUES) return { families: [...JOB_FAMILIES], webhooks: true };
  const wanted = settings.WORKER_QUEUES.split(',').map((s) => s.trim());
  const known: readonly string[] = [...JOB_FAMILIES, WEBHOOKS_LANE];
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) throw new Error(`WORKER_QUEUES names unknown lanes: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return { families: JOB_FAMILIES.filter((f) => wanted.includes(f)), webhooks: wanted.includes(WEBHOOKS_LANE) };
}

/** The worker's composition root: connections, one BullMQ worker per family, and the sweeper's timer. */
export async function startWorkers(settings: Settings, logger: Logger): Promise<WorkerHost> {
  const prisma: PrismaClient = createPrismaClient(settings.DATABASE_URL, { poolMax: settings.DATABASE_POOL_MAX, preparedStatements: settings.DATABASE_PREPARED_STATEMENTS });
  const connection = createRedis(settings.REDIS_URL, 'worker');
  const publisher = createRedis(settings.REDIS_URL, 'worker');
  // SUBSCRIBE takes a connection for itself: cancels from the API reach running jobs through it.
  const subscriber = createRedis(settings.REDIS_URL, 'worker');
  for (const redis of [connection, publisher, subscriber]) redis.on('error', () => undefined);
  const projectWeights = new ProjectWeights(prisma);
  const queues = new JobQueues(publisher, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'), {
    isEnabled: settings.FAIR_SHARING,
    weightOf: (projectId) => projectWeights.of(projectId),
  });
  const events = new JobEventBus(publisher, subscriber, jobEventsChannel(settings.QUEUE_PREFIX));
  // jobs over their project's max_running_jobs wait here; every final status wakes one of the project's
  const waitingRoom = new ProjectWaitingRoom(publisher, settings.QUEUE_PREFIX);
  events.setSlotReleaser((projectId) => waitingRoom.wakeOne(projectId));
  const storage = storageFromSettings(settings);
  const jobs = new JobsRepository(prisma, { webhookOutbox: new WebhookOutbox(prisma, webhookFanOut) });
  const metrics = new WorkerMetrics();
  const attempts = new MeteredJobAttempts(prisma, metrics);
  const artifacts = new ArtifactsRepository(prisma);
  // Every gateway request passes its lane's gate, shared by all workers through Redis: a rate that
  // counts requests (not queue wakes) and learns the gateway's limit from 429s, and a breaker that
  // holds the lane through outages and refused keys, so jobs wait instead of failing one by one.
  const gate = new GatewayLaneGovernor(publisher, settings.QUEUE_PREFIX, (lane) => gatewayLaneMaxPerMinute(settings.lanes, lane), {
    minPauseMs: settings.RATE_LIMIT_PAUSE_MS,
    outageThreshold: settings.GATEWAY_OUTAGE_THRESHOLD,
    outageOpenMs: settings.GATEWAY_OUTAGE_HOLD_MS,
    refusedOpenMs: settings.GATEWAY_REFUSED_HOLD_MS,
  });
  const gatewayClient = createUpstreamClient({
    baseUrl: settings.upstreamBaseUrl,
    apiKey: settings.upstreamApiKey,
    gate,
    taskTimeouts: { submitMs: settings.TASK_SUBMIT_TIMEOUT_MS },
    // downloads off the gateway's origin (input URLs, links in answers, CDN results) connect only to
    // public addresses (checked at connect time) unless private URLs are allowed
    publicDispatcher: createGuardedDispatcher({
      allowPrivate: settings.allowPrivateUrls,
      onRefused: (err) => logger.warn({ detail: err.detail, range: err.range }, 'media.address_refused'),
    }),
  });
  const upstream = observedUpstream(gatewayClient, metrics);
  const taskServices = createTaskServices({
    settings,
    jobs,
    attempts,
    artifacts,
    events,
    upstream,
    queues,
    media: new MediaResolver(new FilesRepository(prisma), artifacts, storage, upstream, mediaLimitsFrom(settings)),
    artifactWriter: new ArtifactWriter(storage, artifacts, mediaLimitsFrom(settings)),
    logger,
  });
  const embeddingLane = createEmbeddingLane({ settings, prisma, producer: publisher, storage, jobs, artifacts, events, upstream, logger });
  const costLedger = startCostLedger({ settings, prisma, events, upstream, producer: publisher, tasks: taskServices.runner, logger });
  const runner = new JobRunner({
    maxAttempts: settings.JOB_MAX_ATTEMPTS,
    jobs,
    attempts,
    artifacts,
    events,
    upstream,
    media: new MediaResolver(new FilesRepository(prisma), artifacts, storage, upstream, mediaLimitsFrom(settings)),
    artifactWriter: new ArtifactWriter(storage, artifacts, mediaLimitsFrom(settings)),
    logger,
    tasks: taskServices.runner,
    embeddings: embeddingLane.services,
    // a synchronous job takes its lane's place before it starts (no start churn at the lane's rate)
    gate,
  });
  // before any BullMQ worker takes a job: a port in use stops the process while it holds nothing
  const observability = await startObservability({ settings, metrics, prisma, redis: publisher, queues, gate, events, upstream, logger });
  const shutdown = new AbortController();
  const backoff = jitteredBackoff(settings.RETRY_BASE_DELAY_MS, settings.RETRY_MAX_DELAY_MS);
  const workers: Worker[] = [];

  const lanes = lanesToRun(settings);
  for (const family of lanes.families) {
    const lane = settings.lanes[family];
    const queue: Queue = queues.queue(family);
    const worker = new Worker(
      queueNameFor(family),
      jobProcessor({
        runner,
        queue,
        rateLimitPauseMs: settings.RATE_LIMIT_PAUSE_MS,
        shutdownSignal: shutdown.signal,
        waitingRoom: observedWaitingRoom(waitingRoom, metrics),
        projectSlotRecheckMs: settings.PROJECT_SLOT_RECHECK_MS,
        runningJobsOf: (projectId) => jobs.countRunningForProject(projectId),
      }),
      {
        connection,
        // the queue's own prefix (with its Redis Cluster hash tag)
        prefix: queue.opts.prefix,
        concurrency: lane.concurrency,
        lockDuration: settings.WORKER_LOCK_MS,
        stalledInterval: settings.WORKER_STALLED_INTERVAL_MS,
        // a job goes back to the queue after each death of its worker, up to WORKER_CRASH_LIMIT of them
        maxStalledCount: settings.WORKER_CRASH_LIMIT - 1,
        // finished entries leave Redis (per worker, not stored on each queued job)
        ...FINISHED_RETENTION,
        // A synchronous job is one gateway request per start, so the queue's own limiter paces
        // starts without churn; a task family's wakes are mostly polls of parked tasks, which the
        // gate paces per request instead (a wake that sends nothing costs no budget).
        ...(TASK_FAMILIES.includes(family) ? {} : { limiter: { max: lane.requestsPerMinute, duration: 60_000 } }),
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) => (type === JITTER_BACKOFF ? backoff(attemptsMade) : 0),
        },
      },
    );
    worker.on('error', (err) => logger.warn({ err, family }, 'worker.error'));
    workers.push(worker);
  }
  // Chunks of embedding batches run on their own queue, under the embedding lane's limits.
  if (lanes.families.includes('embedding')) workers.push(embeddingLane.startWorker({ connection, shutdownSignal: shutdown.signal, backoff }));

  // Webhook deliveries: the bus queues the outbox rows of every change announced in this process.
  const webhookLane = await startWebhookLane({
    settings,
    prisma,
    connection,
    producer: publisher,
    events,
    logger,
    consume: lanes.webhooks,
    storage,
    observeAttempt: (attempt) => metrics.webhookAttempt(attempt.outcome, attempt.eventAt),
  });
  if (webhookLane.worker) workers.push(webhookLane.worker);

  // When a worker last took a job from each queue: the admin overview warns about queues with work and no consumer.
  const laneActivity = new LaneActivity(publisher, settings.QUEUE_PREFIX);
  for (const worker of workers) worker.on('active', () => laneActivity.touch(worker.name));

  const sweeperDeps: SweeperDeps = {
    jobs,
    attempts,
    queues,
    events,
    logger,
    retry: { maxAttempts: settings.JOB_MAX_ATTEMPTS, baseDelayMs: settings.RETRY_BASE_DELAY_MS },
    // half an interval at most: after Redis lost its data, every row is back within two ticks, with room to spare
    staleAfterMs: Math.min(10_000, Math.round(settings.SWEEP_INTERVAL_MS / 2)),
    workerCrashLimit: settings.WORKER_CRASH_LIMIT,
    batchSize: 500,
    staleCursor: { after: null },
    staleBudgetMs: Math.round(settings.SWEEP_INTERVAL_MS / 2),
    redisMemory: new RedisMemoryMarker(publisher, settings.QUEUE_PREFIX),
    webhooks: webhookLane.sweepDeps,
  };
  // Every worker ticks on its own timer; the Postgres lease keeps it to one sweep per interval in all.
  const sweepTimer = new SweepTimer({
    intervalMs: settings.SWEEP_INTERVAL_MS,
    lease: new AdvisoryLease(prisma, SWEEP_LEASE_NAME),
    sweep: observedSweep(metrics, () => sweep(sweeperDeps)),
    logger,
  });
  sweepTimer.start();
  // Redis came back (a restart, a failover, maybe empty): sweep at once instead of at the next interval
  let redisReadyCount = publisher.status === 'ready' ? 1 : 0;
  publisher.on('ready', () => {
    redisReadyCount += 1;
    if (redisReadyCount > 1) sweepTimer.nudge();
  });
  const retentionTimer = createRetentionTimer({ settings, prisma, storage, logger });
  retentionTimer.start();
  // Earlier versions kept the sweeper's schedule in Redis; nothing consumes it any more.
  // Not awaited: while Redis is down this would wait for it.
  queues.maintenance.removeJobScheduler(LEGACY_SWEEP_SCHEDULER_ID).catch(() => undefined);

  return {
    workers,
    httpPort: observability.httpPort,
    async close(graceMs = 15_000) {
      await observability.close();
      // Active jobs may finish within the grace period; after it their upstream calls are aborted
      // and BullMQ's stalled-job check hands them to another worker.
      const grace = setTimeout(() => shutdown.abort(), graceMs);
      await Promise.all([...workers.map((w) => w.close()), sweepTimer.close(), retentionTimer.close(), costLedger.close()]);
      clearTimeout(grace);
      taskServices.close();
      await embeddingLane.close();
      await webhookLane.close();
      await waitingRoom.close();
      await queues.close().catch(() => undefined);
      connection.disconnect();
      publisher.disconnect();
      subscriber.disconnect();
      await upstream.close().catch(() => undefined);
      await prisma.$disconnect();
    },
  };
}
