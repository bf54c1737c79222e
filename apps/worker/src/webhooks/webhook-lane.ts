import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Settings } from '@genqueue/config';
import { ArtifactsRepository, SystemSettingsRepository, WebhookDeliveriesRepository, WebhookEndpointsRepository, type PrismaClient } from '@genqueue/db';
import { artifactLinkSigner, servingOf, type ObjectStorage } from '@genqueue/storage';
import { queuePrefix, WEBHOOK_DELIVER_QUEUE, WebhookDeliveryQueue, type JobEventBus } from '@genqueue/queue';
import { createGuardedDispatcher, DEFAULT_RETRY_SCHEDULE_MS, parseRetryScheduleMs } from '@genqueue/webhooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { deliveryProcessor, type DeliveryDeps } from './delivery-processor';
import { sweepWebhookDeliveries, type WebhookSweepDeps } from './webhook-sweep';

/** Presigned bucket links (24 h, the API route's type and disposition) for the artifacts of a payload. */
function artifactPresigner(prisma: PrismaClient, storage: ObjectStorage, ttlSec = 24 * 3600): (ids: readonly string[]) => Promise<Map<string, string>> {
  const artifacts = new ArtifactsRepository(prisma);
  return async (ids) => {
    const rows = await artifacts.listByIds(ids);
    const links = await Promise.all(
      rows.map(async (a) => {
        const serving = servingOf(a);
        return [a.id, await storage.presignedUrl!(a.storageKey, ttlSec, { contentType: serving.contentType, disposition: serving.disposition })] as const;
      }),
    );
    return new Map(links);
  };
}

export type WebhookLane = {
  /** null in a process that only produces deliveries (WORKER_QUEUES without `webhooks`) */
  worker: Worker | null;
  /** the outbox step of a sweeper tick */
  sweepDeps: WebhookSweepDeps;
  close(): Promise<void>;
};

/**
 * Webhook deliveries in a worker process: the producer the event bus hands committed deliveries
 * to, the sweeper's outbox step, and (when `consume`) the `webhook-deliver` queue's worker.
 */
type LaneInput = {
  settings: Settings;
  prisma: PrismaClient;
  connection: Redis;
  producer: Redis;
  events: JobEventBus;
  logger: Logger;
  /** run the delivery worker in this process */
  consume: boolean;
  /** with STORAGE_PUBLIC_LINKS=presigned, payload links are presigned by it */
  storage?: ObjectStorage;
  /** told of every delivery attempt (metrics) */
  observeAttempt?: DeliveryDeps['observe'];
};

export async function startWebhookLane(input: LaneInput): Promise<WebhookLane> {
  const { settings, logger } = input;
  const deliveries = new WebhookDeliveriesRepository(input.prisma);
  const queue = new WebhookDeliveryQueue(input.producer, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'));
  input.events.setDeliveryEnqueuer((ids) => queue.enqueueNew(ids));
  const enqueue = (items: Parameters<WebhookDeliveryQueue['enqueue']>[0]) => queue.enqueue(items);
  const consumer = input.consume ? await startDeliveryWorker(input, deliveries, enqueue) : null;
  return {
    worker: consumer?.worker ?? null,
    sweepDeps: { deliveries, enqueue, logger, batchSize: 500 },
    async close() {
      await queue.close().catch(() => undefined);
      await consumer?.dispatcher.close().catch(() => undefined);
    },
  };
}

/** The `webhook-deliver` queue's worker: one attempt per queue job, over the SSRF-guarded agent. */
async function startDeliveryWorker(
  input: LaneInput,
  deliveries: WebhookDeliveriesRepository,
  enqueue: DeliveryDeps['enqueue'],
): Promise<{ worker: Worker; dispatcher: ReturnType<typeof createGuardedDispatcher> }> {
  const { settings, logger } = input;
  const dispatcher = createGuardedDispatcher({
    allowPrivate: settings.allowPrivateUrls,
    onRefused: (err) => logger.warn({ detail: err.detail, range: err.range }, 'webhook.address_refused'),
  });
  // the API's secret for signed artifact links (the same generator: whoever comes first makes it)
  const artifactSecret = await new SystemSettingsRepository(input.prisma)
    .getOrCreate('artifact_url_secret', () => randomBytes(32).toString('base64url'))
    .catch((err: unknown) => {
      logger.warn({ err }, 'webhook.no_artifact_secret');
      return null;
    });
  const worker = new Worker(
    WEBHOOK_DELIVER_QUEUE,
    deliveryProcessor({
      deliveries,
      endpoints: new WebhookEndpointsRepository(input.prisma),
      enqueue,
      dispatcher,
      retryScheduleMs: settings.WEBHOOK_RETRY_SCHEDULE_MS === undefined ? DEFAULT_RETRY_SCHEDULE_MS : parseRetryScheduleMs(settings.WEBHOOK_RETRY_SCHEDULE_MS),
      timeoutMs: settings.WEBHOOK_TIMEOUT_MS,
      signArtifactUrl: artifactSecret ? artifactLinkSigner(settings.artifactBaseUrl, artifactSecret).sign : null,
      ...(settings.STORAGE_PUBLIC_LINKS === 'presigned' && input.storage?.presignedUrl ? { presignArtifactUrls: artifactPresigner(input.prisma, input.storage) } : {}),
      logger,
      ...(input.observeAttempt ? { observe: input.observeAttempt } : {}),
    }),
    {
      connection: input.connection,
      prefix: queuePrefix(settings.QUEUE_PREFIX, WEBHOOK_DELIVER_QUEUE),
      concurrency: settings.WEBHOOK_CONCURRENCY,
      // renewed while an attempt runs; a dead worker's attempt is handed on once it lapses
      lockDuration: settings.WORKER_LOCK_MS,
      stalledInterval: settings.WORKER_STALLED_INTERVAL_MS,
      // as on the job lanes: an attempt goes back to the queue after each death of its worker, up to
      // WORKER_CRASH_LIMIT of them; past it the row waits for the sweeper (after its claim lease)
      maxStalledCount: settings.WORKER_CRASH_LIMIT - 1,
    },
  );
  worker.on('error', (err) => logger.warn({ err }, 'worker.error'));
  // An attempt whose outcome could not be recorded (Postgres trouble) runs again: at least once.
  worker.on('failed', (job, err) => logger.warn({ err, queueJobId: job?.id }, 'webhook.attempt_not_recorded'));
  return { worker, dispatcher };
}

export { sweepWebhookDeliveries };
