import { z } from 'zod';
import type { JobEventType } from './job-status';
import { findJobType, JOB_TYPE_NAMES } from './job-types';
import type { ErrorDetail } from './errors';

/**
 * The job events a webhook can carry (`job.created` and `job.retried` are events, never webhooks):
 * what a job's `webhook_events` may name. `@genqueue/webhooks` adds the admin events to these.
 * WARNING: persisted in jobs' and endpoints' subscriptions.
 */
export const JOB_WEBHOOK_EVENT_TYPES = [
  'job.started',
  'job.progress',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'job.expired',
] as const satisfies readonly JobEventType[];

export const MetadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');

/** The envelope of `POST /v1/jobs`; `input` is checked against its type's schema afterwards. */
export const JobRequestSchema = z.strictObject({
  type: z.string().min(1).max(64),
  input: z.record(z.string(), z.unknown()),
  webhook_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).optional(),
  webhook_events: z.array(z.enum(JOB_WEBHOOK_EVENT_TYPES)).max(JOB_WEBHOOK_EVENT_TYPES.length).optional(),
  metadata: MetadataSchema.optional(),
  priority: z.int().min(1).max(10).optional(),
  ttl_seconds: z.int().min(1).max(7 * 86_400).optional(),
  deadline_seconds: z.int().min(1).max(7 * 86_400).optional(),
});
export type JobRequest = z.infer<typeof JobRequestSchema>;

export type ValidJobRequest = Omit<JobRequest, 'input'> & { input: Record<string, unknown> };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string; details: ErrorDetail[] };

const joinPath = (parts: string[]): string => parts.filter((p) => p !== '').join('.') || '(body)';

/** One detail per failing field; an unknown key is named by its own path, not its parent's. */
export function zodDetails(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    const at = [prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath([...at, key]), message: 'unknown field' }));
    }
    return [{ path: joinPath(at), message: issue.message }];
  });
}

/** Validates the envelope and the typed input; the input comes back with its defaults filled in. */
export function parseJobRequest(body: unknown): ParseResult<ValidJobRequest> {
  const envelope = JobRequestSchema.safeParse(body);
  if (!envelope.success) {
    return { ok: false, message: 'The job request is invalid', details: zodDetails(envelope.error) };
  }
  const spec = findJobType(envelope.data.type);
  if (!spec) {
    return {
      ok: false,
      message: `Unknown job type "${envelope.data.type}"`,
      details: [{ path: 'type', message: `must be one of ${JOB_TYPE_NAMES.join(', ')}` }],
    };
  }
  const input = spec.input.safeParse(envelope.data.input);
  if (!input.success) {
    return { ok: false, message: `The input of ${spec.type} is invalid`, details: zodDetails(input.error, 'input') };
  }
  return { ok: true, value: { ...envelope.data, input: input.data as Record<string, unknown> } };
}
