import { isId } from '@genqueue/core';
import type { DeliveryWithAttempts, WebhookDeliveriesRepository } from '@genqueue/db';
import type { WebhookDeliveryQueue } from '@genqueue/queue';
import type { Logger } from 'pino';

/**
 * Sends a delivery of the project again now: pending and due again (same webhook-id, fresh
 * schedule), then queued. Null for an unknown id or another project's.
 */
export async function redeliver(
  deps: { webhookDeliveries: WebhookDeliveriesRepository; webhookQueue: WebhookDeliveryQueue; logger: Logger },
  projectId: string,
  deliveryId: string,
): Promise<DeliveryWithAttempts | null> {
  const reset = isId('whd', deliveryId) ? await deps.webhookDeliveries.resetForRedelivery(projectId, deliveryId) : null;
  if (!reset) return null;
  try {
    await deps.webhookQueue.enqueueNew([reset.id]);
  } catch (err) {
    // the row is pending and due: the sweeper queues it
    deps.logger.warn({ err, deliveryId: reset.id }, 'webhook.redeliver_deferred');
  }
  return deps.webhookDeliveries.findForProject(projectId, deliveryId);
}
