import { JOB_WEBHOOK_EVENT_TYPES, type PublicJob } from '@genqueue/core';

/** Event types a webhook can carry: the job events of core's list, and the admin events. */
export const WEBHOOK_EVENT_TYPES = [
  ...JOB_WEBHOOK_EVENT_TYPES,
  // an admin event, not a job's: sent only to endpoints that name it (docs/operations.md)
  'gateway.balance_low',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Events that are no job's: an endpoint with an empty event list does not get them. */
export const ADMIN_WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = ['gateway.balance_low'];

/** What a job's own `webhook_url` gets when it gives no `webhook_events`. */
export const DEFAULT_JOB_URL_EVENT_TYPES: readonly WebhookEventType[] = [
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'job.expired',
];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** Does a job's `webhook_url` get `eventType`, given the job's `webhook_events` (empty = the defaults)? */
export function jobUrlWants(eventType: string, webhookEvents: readonly string[]): boolean {
  if (!isWebhookEventType(eventType)) return false;
  return webhookEvents.length > 0 ? webhookEvents.includes(eventType) : DEFAULT_JOB_URL_EVENT_TYPES.includes(eventType);
}

/** Does an endpoint subscribed to `eventTypes` (empty = every webhook type) get `eventType`? */
export function endpointWants(eventType: string, eventTypes: readonly string[]): boolean {
  if (!isWebhookEventType(eventType)) return false;
  if (eventTypes.length === 0) return !ADMIN_WEBHOOK_EVENT_TYPES.includes(eventType);
  return eventTypes.includes(eventType);
}

/**
 * WARNING: the webhook body is a public contract (api.md): `{"type", "timestamp", "data"}` with the
 * public job as `data`. Add fields if needed; never rename or reshape these.
 */
export type WebhookPayload = {
  type: WebhookEventType;
  /** ISO 8601, when the event happened */
  timestamp: string;
  data: PublicJob;
};

export function buildWebhookPayload(input: { type: WebhookEventType; at: Date; job: PublicJob }): WebhookPayload {
  return { type: input.type, timestamp: input.at.toISOString(), data: input.job };
}

/**
 * The exact body to send (and sign). Rebuilds the top level in contract order: a payload read back
 * from a jsonb column has its keys reordered.
 */
export function webhookBody(payload: WebhookPayload): string {
  return JSON.stringify({ type: payload.type, timestamp: payload.timestamp, data: payload.data });
}
