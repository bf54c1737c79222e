import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { assertRedisReady } from './redis';
import { queueOptions, WEBHOOK_DELIVER_QUEUE, WebhookDeliveryRefSchema } from './catalog';

/**
 * WARNING: persisted: the BullMQ id of the queue job for attempt number `attemptCount + 1` of a
 * delivery. Every producer (after commit, the processor's own retry, the sweeper) derives the same
 * id for the same attempt, so a double enqueue is a no-op while the first one waits or runs.
 */
export const deliveryQueueJobId = (deliveryId: string, attemptCount: number): string => `${deliveryId}-a${attemptCount}`;

/** The attempt count a queue job was made for, from its id; null for an id of another shape. */
export function attemptOfQueueJobId(queueJobId: string | undefined): number | null {
  const match = /-a(\d+)$/.exec(queueJobId ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

export type DeliveryEnqueue = { deliveryId: string; attemptCount: number; delayMs?: number };

/** Producer side of the `webhook-deliver` queue. */
export class WebhookDeliveryQueue {
  readonly queue: Queue;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    onError: (err: Error) => void = () => undefined,
  ) {
    this.queue = new Queue(WEBHOOK_DELIVER_QUEUE, queueOptions(connection, prefix, WEBHOOK_DELIVER_QUEUE));
    this.queue.on('error', onError);
  }

  /** Adds one queue job per delivery; throws when Redis is down (callers treat it as best effort). */
  async enqueue(items: readonly DeliveryEnqueue[]): Promise<void> {
    if (items.length === 0) return;
    assertRedisReady(this.connection);
    await this.queue.addBulk(
      items.map((item) => ({
        name: 'deliver',
        data: WebhookDeliveryRefSchema.parse({ deliveryId: item.deliveryId }),
        opts: {
          jobId: deliveryQueueJobId(item.deliveryId, item.attemptCount),
          ...(item.delayMs ? { delay: item.delayMs } : {}),
          // A processor error (Postgres down) is tried again a few times; the sweeper covers the rest.
          attempts: 3,
          backoff: { type: 'exponential', delay: 1_000 },
          // Gone once done: the delivery row and its attempts are the history, and a finished entry
          // must not block the id of a later attempt after a redelivery.
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
  }

  /** Best effort after a commit: a lost enqueue is made up by the sweeper (`claimDue`). */
  async enqueueNew(deliveryIds: readonly string[]): Promise<void> {
    await this.enqueue(deliveryIds.map((deliveryId) => ({ deliveryId, attemptCount: 0 })));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
