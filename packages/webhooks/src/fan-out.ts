import { QUOTA_UNITS_PER_USD, type PublicJob } from '@genqueue/core';
import { buildWebhookPayload, endpointWants, isWebhookEventType, jobUrlWants, type WebhookEventType, type WebhookPayload } from './payload';
import { PROGRESS_WEBHOOK_MIN_INTERVAL_MS } from './schedule';
import { generateWebhookSecret, newWebhookId } from './signing';

/** What the fan-out reads of a job: its own URL and the events it asked for there. */
export type FanOutJob = { webhookUrl: string | null; webhookEvents: readonly string[] };

/** The targets of one job event: the job's URL (null when it gets none) and the endpoints that get it. */
export type FanOutTargets<E> = { jobUrl: string | null; endpoints: E[] };

/**
 * Which targets get a job event, what they are sent and how often: the one place webhook fan-out is
 * decided. The composition roots hand it to the database's outbox (the `WebhookFanOut` port of
 * @genqueue/db), which writes the rows in the transaction of the event.
 */
export const webhookFanOut = {
  /** Whether an event of this type is ever a webhook (`job.created`, `job.retried` are not). */
  isWebhookEvent(eventType: string): boolean {
    return isWebhookEventType(eventType);
  },

  /** The job's URL if it wants `eventType` (its `webhook_events`, or the defaults), and the endpoints subscribed to it. */
  targetsOf<E extends { eventTypes: readonly string[] }>(eventType: string, job: FanOutJob, endpoints: readonly E[]): FanOutTargets<E> {
    return {
      jobUrl: job.webhookUrl !== null && jobUrlWants(eventType, job.webhookEvents) ? job.webhookUrl : null,
      endpoints: endpoints.filter((endpoint) => endpointWants(eventType, endpoint.eventTypes)),
    };
  },

  /** The body of every delivery of the event: the event's job snapshot. */
  payloadOf(event: { type: string; createdAt: Date; data: unknown }): WebhookPayload {
    if (!isWebhookEventType(event.type)) throw new Error(`${event.type} is no webhook event type`);
    return buildWebhookPayload({ type: event.type, at: event.createdAt, job: event.data as PublicJob });
  },

  /** A new delivery's `webhook-id` (the same on every retry of it). */
  newWebhookId,

  /** The signing secret a project gets when its first job URL delivery is written. */
  newProjectSecret: generateWebhookSecret,

  /** `job.progress` goes out at most once per job in this interval; other events every time (null). */
  minIntervalMs(eventType: string): number | null {
    return eventType === 'job.progress' ? PROGRESS_WEBHOOK_MIN_INTERVAL_MS : null;
  },
};

export type WebhookFanOutPolicy = typeof webhookFanOut;

/** The admin event a gateway balance under GATEWAY_BALANCE_ALERT_USD sends. */
export const BALANCE_LOW_EVENT = 'gateway.balance_low' satisfies WebhookEventType;

/**
 * Who gets a balance alert and what they are sent: the endpoints that name `gateway.balance_low`
 * (an empty event list does not: it is no job's event). The worker hands it to the costs
 * repository, which writes the rows in the snapshot's transaction.
 */
export const balanceAlertFanOut = {
  eventType: BALANCE_LOW_EVENT,

  wants(endpointEventTypes: readonly string[]): boolean {
    return endpointWants(BALANCE_LOW_EVENT, endpointEventTypes);
  },

  /** WARNING: a public webhook body (docs/api.md): {"type", "timestamp", "data": the balance}. */
  payloadOf(alert: { availableUnits: number | null; availableUsd: number | null; thresholdUnits: number; takenAt: Date; snapshotId: string }) {
    return {
      type: BALANCE_LOW_EVENT,
      timestamp: alert.takenAt.toISOString(),
      data: {
        object: 'gateway_balance',
        available_units: alert.availableUnits,
        available_usd: alert.availableUsd,
        threshold_usd: alert.thresholdUnits / QUOTA_UNITS_PER_USD,
        taken_at: alert.takenAt.toISOString(),
        snapshot_id: alert.snapshotId,
      },
    };
  },

  newWebhookId,
};
