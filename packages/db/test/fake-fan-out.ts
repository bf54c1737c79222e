import { newId } from '@genqueue/core';
import type { WebhookFanOut } from '../src/repositories/webhook-outbox';

/** Events that are never webhooks in this fake, as in the real policy. */
const NOT_WEBHOOKS = ['job.created', 'job.retried'];

/**
 * A stand-in for @genqueue/webhooks' fan-out policy (which packages/db may not import), with rules
 * simple enough to read off a test: a target gets an event its list names, or every event when its
 * list is empty; `job.progress` at most once per 5 s per job. The real rules are tested beside them.
 */
export function fakeFanOut(options: { projectSecret?: string } = {}): WebhookFanOut {
  const wants = (eventType: string, list: readonly string[]) => !NOT_WEBHOOKS.includes(eventType) && (list.length === 0 || list.includes(eventType));
  return {
    isWebhookEvent: (eventType) => !NOT_WEBHOOKS.includes(eventType),
    targetsOf: (eventType, job, endpoints) => ({
      jobUrl: job.webhookUrl !== null && wants(eventType, job.webhookEvents) ? job.webhookUrl : null,
      endpoints: endpoints.filter((endpoint) => wants(eventType, endpoint.eventTypes)),
    }),
    payloadOf: (event) => ({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.data }),
    newWebhookId: () => newId('msg'),
    newProjectSecret: () => options.projectSecret ?? `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    minIntervalMs: (eventType) => (eventType === 'job.progress' ? 5_000 : null),
  };
}
