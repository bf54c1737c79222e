import type { PublicJob } from '@genqueue/core';
import {
  buildWebhookPayload,
  DEFAULT_JOB_URL_EVENT_TYPES,
  endpointWants,
  isWebhookEventType,
  jobUrlWants,
  WEBHOOK_EVENT_TYPES,
  webhookBody,
  type WebhookPayload,
} from '../src';

const job: PublicJob = {
  id: 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW',
  object: 'job',
  type: 'image.generate',
  status: 'succeeded',
  progress: 100,
  input: { prompt: 'a red fox' },
  output: { images: [] },
  error: null,
  artifacts: [],
  metadata: {},
  webhook_url: 'https://example.org/hooks',
  webhook_events: [],
  priority: 5,
  attempts: 1,
  upstream: { task_id: null, status: null },
  parent_id: null,
  created_at: '2026-11-25T10:00:00.000Z',
  started_at: '2026-11-25T10:00:00.120Z',
  finished_at: '2026-11-25T10:01:00.000Z',
  pruned_at: null,
};

describe('event type filters', () => {
  it('gives a job URL job.started and the final events by default', () => {
    expect(DEFAULT_JOB_URL_EVENT_TYPES).toEqual(['job.started', 'job.succeeded', 'job.failed', 'job.canceled', 'job.expired']);
    for (const type of DEFAULT_JOB_URL_EVENT_TYPES) expect(jobUrlWants(type, [])).toBe(true);
    expect(jobUrlWants('job.progress', [])).toBe(false);
  });

  it('gives a job URL exactly its webhook_events when given', () => {
    expect(jobUrlWants('job.progress', ['job.progress', 'job.succeeded'])).toBe(true);
    expect(jobUrlWants('job.succeeded', ['job.progress', 'job.succeeded'])).toBe(true);
    expect(jobUrlWants('job.started', ['job.progress', 'job.succeeded'])).toBe(false);
    expect(jobUrlWants('job.failed', ['job.succeeded'])).toBe(false);
  });

  it('gives an endpoint its subscribed types, every job event type when none (admin events only when named)', () => {
    for (const type of WEBHOOK_EVENT_TYPES.filter((t) => t.startsWith('job.'))) expect(endpointWants(type, [])).toBe(true);
    expect(endpointWants('gateway.balance_low', [])).toBe(false);
    expect(endpointWants('gateway.balance_low', ['gateway.balance_low'])).toBe(true);
    expect(endpointWants('job.failed', ['job.failed'])).toBe(true);
    expect(endpointWants('job.succeeded', ['job.failed'])).toBe(false);
  });

  it('never delivers job.created or job.retried', () => {
    for (const type of ['job.created', 'job.retried', 'job.unknown']) {
      expect(isWebhookEventType(type)).toBe(false);
      expect(jobUrlWants(type, [])).toBe(false);
      expect(jobUrlWants(type, [type])).toBe(false);
      expect(endpointWants(type, [])).toBe(false);
      expect(endpointWants(type, [type])).toBe(false);
    }
  });
});

describe('webhook body', () => {
  it('is {"type", "timestamp", "data"} with the public job', () => {
    const payload = buildWebhookPayload({ type: 'job.succeeded', at: new Date('2026-11-25T10:01:00.000Z'), job });
    const body = webhookBody(payload);
    expect(body.startsWith('{"type":"job.succeeded","timestamp":"2026-11-25T10:01:00.000Z","data":{"id":"job_')).toBe(true);
    expect(JSON.parse(body)).toEqual({ type: 'job.succeeded', timestamp: '2026-11-25T10:01:00.000Z', data: job });
  });

  it('puts the top level back in contract order after a jsonb round trip', () => {
    const payload = buildWebhookPayload({ type: 'job.failed', at: new Date('2026-11-25T10:01:00.000Z'), job });
    const reordered = { data: payload.data, type: payload.type, timestamp: payload.timestamp } as WebhookPayload;
    expect(webhookBody(reordered)).toBe(webhookBody(payload));
  });
});
