import { z } from 'zod';
import type { DeliveryWithAttempts, WebhookEndpointRecord } from '@genqueue/db';
import { WEBHOOK_EVENT_TYPES } from '@genqueue/webhooks';

/** Enough of a secret to tell two apart (`whsec_` and four characters), never enough to sign. */
export const secretPrefix = (secret: string): string => `${secret.slice(0, 10)}…`;

/** What `endpointView` answers. */
export const WebhookEndpointSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)).describe('empty: every event type'),
  secret: z.string().optional().describe('only in the answers that make a secret: creation and rotate-secret'),
  secret_prefix: z.string(),
  status: z.enum(['enabled', 'disabled']),
  disabled_at: z.string().nullable(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
});
export type WebhookEndpointView = z.output<typeof WebhookEndpointSchema>;

/** `POST /v1/webhook-endpoints/{id}/rotate-secret`: the endpoint with its new secret, and until when the old one still signs. */
export const RotatedWebhookEndpointSchema = WebhookEndpointSchema.extend({ previous_secret_expires_at: z.string() });

/** An endpoint as the admin sees it: its project and failure run, never its secret (nor its prefix). */
export const AdminWebhookEndpointSchema = WebhookEndpointSchema.omit({ secret: true, secret_prefix: true }).extend({
  project_id: z.string(),
  failing_since: z.string().nullable(),
});

/** `DELETE /v1/webhook-endpoints/{id}`. */
export const DeletedWebhookEndpointSchema = z.object({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) });

/** The project's secret for per-job webhook URLs. */
export const WebhookSecretSchema = z.object({ object: z.literal('webhook_secret'), secret: z.string() });

/** What `deliveryView` answers: a delivery with its attempts, oldest first. */
export const WebhookDeliverySchema = z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  webhook_id: z.string(),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  event_id: z.string(),
  job_id: z.string(),
  endpoint_id: z.string().nullable().describe('null for the job’s own webhook_url'),
  url: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  attempts: z.array(
    z.object({
      at: z.string(),
      status_code: z.int().nullable(),
      duration_ms: z.number(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
    }),
  ),
});
export type WebhookDeliveryView = z.output<typeof WebhookDeliverySchema>;

/** A delivery as the admin sees it: with its project. */
export const AdminWebhookDeliverySchema = WebhookDeliverySchema.extend({ project_id: z.string() });

/**
 * Wire shape of an endpoint (snake_case). The secret itself is shown once, when it is made (at
 * creation and by rotate-secret: `withSecret`); everywhere else only its prefix.
 */
export function endpointView(endpoint: WebhookEndpointRecord, withSecret = false): WebhookEndpointView {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes as WebhookEndpointView['event_types'],
    ...(withSecret ? { secret: endpoint.secret } : {}),
    secret_prefix: secretPrefix(endpoint.secret),
    status: endpoint.disabledAt ? 'disabled' : 'enabled',
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt.toISOString(),
  };
}

/** Wire shape of a delivery with its attempts, oldest first (api.md). */
export function deliveryView(delivery: DeliveryWithAttempts): WebhookDeliveryView {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    webhook_id: delivery.webhookId,
    event_type: delivery.eventType as WebhookDeliveryView['event_type'],
    event_id: delivery.eventId,
    job_id: delivery.jobId,
    endpoint_id: delivery.endpointId,
    url: delivery.url,
    status: delivery.status as WebhookDeliveryView['status'],
    next_attempt_at: delivery.status === 'pending' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    created_at: delivery.createdAt.toISOString(),
    attempts: delivery.attempts.map((attempt) => ({
      at: attempt.at.toISOString(),
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error: attempt.error,
      response_body: attempt.responseBody,
    })),
  };
}
