import type { Job as BullJob } from 'bullmq';
import { withSignedArtifactUrls, type PublicJob } from '@genqueue/core';
import type { AttemptRecord, DeliveryForSending, WebhookDeliveriesRepository, WebhookEndpointsRepository } from '@genqueue/db';
import { attemptOfQueueJobId, WebhookDeliveryRefSchema, type DeliveryEnqueue } from '@genqueue/queue';
import {
  activeSecrets,
  classifyAttempt,
  nextAttemptDelayMs,
  sendWebhook,
  shouldDisableEndpoint,
  unixSeconds,
  webhookBody,
  webhookHeaders,
  type SendResult,
  type SendWebhookInput,
  type WebhookPayload,
} from '@genqueue/webhooks';
import type { Logger } from 'pino';

export type DeliveryDeps = {
  deliveries: Pick<WebhookDeliveriesRepository, 'findForSending' | 'recordAttempt'>;
  /** disables an endpoint that answered 410 or failed for too long */
  endpoints: Pick<WebhookEndpointsRepository, 'disableEndpoint'>;
  /** queues the next attempt (a delayed queue job); the sweeper makes up for a lost one */
  enqueue: (items: readonly DeliveryEnqueue[]) => Promise<void>;
  /** the SSRF-guarded agent (createGuardedDispatcher) */
  dispatcher: NonNullable<SendWebhookInput['dispatcher']>;
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  /** fresh signed artifact links for the payload; null leaves the stored snapshot as it is */
  signArtifactUrl: ((artifactId: string) => string) | null;
  /** presigned bucket links by artifact id (STORAGE_PUBLIC_LINKS=presigned); ids it lacks get `signArtifactUrl`'s */
  presignArtifactUrls?: (artifactIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  logger: Logger;
  now?: () => Date;
  /** told of every attempt (metrics): how it ended, and when the event it announces happened */
  observe?: (attempt: AttemptObservation) => void;
};

export type DeliveryOutcome = 'skipped' | 'delivered' | 'retry' | 'failed' | 'gone';

/** An attempt that went on the wire (`delivered`, `retry`, `failed`, `gone`) or was refused before it (`blocked`). */
export type AttemptObservation = { outcome: Exclude<DeliveryOutcome, 'skipped'> | 'blocked'; eventAt: Date };

/** The body to send: the stored payload, with fresh signed links to the job's artifacts if we can sign. */
function bodyOf(payload: WebhookPayload, sign: DeliveryDeps['signArtifactUrl']): string {
  // admin events (gateway.balance_low) carry no job, so no artifacts to sign
  const isJobEvent = String(payload.type).startsWith('job.');
  const data = sign && isJobEvent ? withSignedArtifactUrls(payload.data as PublicJob, sign) : payload.data;
  return webhookBody({ ...payload, data });
}

/** The payload's link maker: presigned bucket links when configured (the API's signed links if presigning fails). */
async function artifactSigner(deps: DeliveryDeps, payload: WebhookPayload): Promise<DeliveryDeps['signArtifactUrl']> {
  const ids = ((payload.data as PublicJob | undefined)?.artifacts ?? []).map((a) => a.id);
  if (!deps.presignArtifactUrls || ids.length === 0) return deps.signArtifactUrl;
  const presigned = await deps.presignArtifactUrls(ids).catch((err: unknown) => {
    deps.logger.warn({ err }, 'webhook.presign_failed');
    return new Map<string, string>();
  });
  const fallback = deps.signArtifactUrl;
  if (presigned.size === 0) return fallback;
  return (id) => presigned.get(id) ?? fallback?.(id) ?? '';
}

/** An attempt that never went on the wire (no secret, endpoint gone), recorded so it can be seen. */
const notSent = (error: string): SendResult => ({ statusCode: null, durationMs: 0, error, responseBody: null });

/**
 * One attempt of one delivery. The row is the truth: a queue job for an attempt that already
 * happened (a duplicate from the sweeper, an old retry after a redelivery) does nothing.
 */
export async function deliverOnce(deps: DeliveryDeps, deliveryId: string, expectedAttempt: number | null): Promise<DeliveryOutcome> {
  const found = await deps.deliveries.findForSending(deliveryId);
  if (!found || found.delivery.status !== 'pending') return 'skipped';
  if (expectedAttempt !== null && found.delivery.attemptCount !== expectedAttempt) return 'skipped';
  const now = deps.now?.() ?? new Date();
  // the delivery row is written in the transaction of the job event it announces
  const observe = (outcome: AttemptObservation['outcome']): void => deps.observe?.({ outcome, eventAt: found.delivery.createdAt });

  const blocked = blockedReason(found);
  if (blocked) {
    await deps.deliveries.recordAttempt(deliveryId, { ...notSent(blocked), at: now }, null, 'failed');
    observe('blocked');
    return 'failed';
  }
  const { delivery } = found;
  const payload = delivery.payload as unknown as WebhookPayload;
  const body = bodyOf(payload, await artifactSigner(deps, payload));
  const headers = webhookHeaders({
    secrets: activeSecrets(found.secrets!, now),
    webhookId: delivery.webhookId,
    timestamp: unixSeconds(now),
    body,
  });
  const result = await sendWebhook({ url: delivery.url, headers, body, timeoutMs: deps.timeoutMs, dispatcher: deps.dispatcher });
  const outcome = classifyAttempt(result);
  const attempt: AttemptRecord = { ...result, at: now };

  if (outcome === 'delivered') {
    await deps.deliveries.recordAttempt(deliveryId, attempt, null, 'succeeded');
    observe('delivered');
    return 'delivered';
  }
  if (outcome === 'gone') {
    await deps.deliveries.recordAttempt(deliveryId, attempt, null, 'failed');
    if (found.endpoint) await deps.endpoints.disableEndpoint(found.endpoint.id, 'answered 410 Gone');
    deps.logger.info({ deliveryId, endpointId: found.endpoint?.id ?? null }, 'webhook.gone');
    observe('gone');
    return 'gone';
  }
  const attemptsMade = delivery.attemptCount + 1;
  const delayMs = nextAttemptDelayMs(attemptsMade, deps.retryScheduleMs);
  const nextAt = delayMs === null ? null : new Date(Date.now() + delayMs);
  const recorded = await deps.deliveries.recordAttempt(deliveryId, attempt, nextAt);
  if (found.endpoint && recorded && shouldDisableEndpoint(recorded.endpointFailingSince, now)) {
    await deps.endpoints.disableEndpoint(found.endpoint.id, 'failed every delivery for 5 days');
    deps.logger.info({ endpointId: found.endpoint.id }, 'webhook.endpoint_disabled');
  }
  if (delayMs === null || recorded?.delivery.status !== 'pending') {
    observe('failed');
    return 'failed';
  }
  observe('retry');
  await deps
    .enqueue([{ deliveryId, attemptCount: recorded.delivery.attemptCount, delayMs }])
    .catch((err: unknown) => deps.logger.warn({ err, deliveryId }, 'webhook.retry_enqueue_deferred'));
  return 'retry';
}

function blockedReason(found: DeliveryForSending): string | null {
  if (found.endpoint?.deletedAt) return 'not sent: the endpoint was deleted';
  if (found.endpoint?.disabledAt) return 'not sent: the endpoint is disabled';
  if (!found.secrets) return 'not sent: the project has no webhook secret';
  return null;
}

/** The BullMQ edge of the `webhook-deliver` queue. */
export function deliveryProcessor(deps: DeliveryDeps) {
  return async (bullJob: BullJob): Promise<DeliveryOutcome> => {
    const { deliveryId } = WebhookDeliveryRefSchema.parse(bullJob.data);
    return deliverOnce(deps, deliveryId, attemptOfQueueJobId(bullJob.id));
  };
}
