import { DEFAULT_DELIVERY_CLAIM_LEASE_MS, type WebhookDeliveriesRepository } from '@genqueue/db';
import type { DeliveryEnqueue } from '@genqueue/queue';
import type { Logger } from 'pino';

export type WebhookSweepDeps = {
  deliveries: Pick<WebhookDeliveriesRepository, 'claimDue'>;
  enqueue: (items: readonly DeliveryEnqueue[]) => Promise<void>;
  logger: Logger;
  batchSize: number;
  /** rows due less than this long ago are left to the queue job made after their commit */
  graceMs?: number;
};

const DEFAULT_GRACE_MS = 2_000;

/**
 * The outbox's safety net: pending deliveries that are due are queued (again). A queue job that
 * is still waiting or running has the same id, so queueing it again is a no-op; one Redis never got
 * (a crash between commit and enqueue, a lost retry, a Redis restart) is queued now. Claims are
 * leased, so a sweep does not hand the same row out again while its queue job waits.
 */
export async function sweepWebhookDeliveries(deps: WebhookSweepDeps, now = new Date(), options: { redisWasEmptied?: boolean } = {}): Promise<number> {
  // After Redis lost its data, the queue jobs of deliveries claimed within the last lease are gone
  // too: claim those again now instead of after their lease. (A retry due within a lease from now
  // goes out that much early: at least once allows it.)
  const dueBy = options.redisWasEmptied ? now.getTime() + DEFAULT_DELIVERY_CLAIM_LEASE_MS : now.getTime() - (deps.graceMs ?? DEFAULT_GRACE_MS);
  let queued = 0;
  for (;;) {
    const due = await deps.deliveries.claimDue(new Date(dueBy), deps.batchSize);
    if (due.length === 0) break;
    await deps.enqueue(due.map((d) => ({ deliveryId: d.id, attemptCount: d.attemptCount })));
    queued += due.length;
    if (due.length < deps.batchSize) break;
  }
  if (queued > 0) deps.logger.debug({ queued }, 'sweeper.webhooks_queued');
  return queued;
}
