import type { DeliveryWithAttempts, WebhookEndpoint } from '@genqueue/db';

/** Enough of a secret to tell two apart (`whsec_` and four characters), never enough to sign. */
export const secretPrefix = (secret: string): string => `${secret.slice(0, 10)}…`;

/**
 * Wire shape of an endpoint (snake_case). The secret itself is shown once, when it is made (at
 * creation and by rotate-secret: `withSecret`); everywhere else only its prefix.
 */
export function endpointView(endpoint: WebhookEndpoint, withSecret = false): Record<string, unknown> {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    ...(withSecret ? { secret: endpoint.secret } : {}),
    secret_prefix: secretPrefix(endpoint.secret),
    status: endpoint.disabledAt ? 'disabled' : 'enabled',
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt.toISOString(),
  };
}

/** Wire shape of a delivery with its attempts, oldest first (api.md). */
export function deliveryView(delivery: DeliveryWithAttempts): Record<string, unknown> {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    webhook_id: delivery.webhookId,
    event_type: delivery.eventType,
    event_id: delivery.eventId,
    job_id: delivery.jobId,
    endpoint_id: delivery.endpointId,
    url: delivery.url,
    status: delivery.status,
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
