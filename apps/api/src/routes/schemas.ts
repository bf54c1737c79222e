import { z } from 'zod';
import { JOB_STATUSES, listCursorSchema } from '@genqueue/core';

export const ListJobsQuerySchema = z.object({
  type: z.string().max(64).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: listCursorSchema('job').optional(),
  project_id: z.string().max(64).optional(),
  q: z.string().trim().min(1).max(200).optional(),
});

/** `status=failed,canceled`: one status or several, comma-separated (the admin history). */
export const StatusListSchema = z
  .string()
  .regex(new RegExp(`^(${JOB_STATUSES.join('|')})(,(${JOB_STATUSES.join('|')}))*$`), `one or more of ${JOB_STATUSES.join(', ')}, comma-separated`)
  .transform((value) => [...new Set(value.split(','))]);

/** `GET /admin/v1/jobs` and `/count`: the /v1 filters plus several statuses at once. */
export const AdminListJobsQuerySchema = ListJobsQuerySchema.extend({ status: StatusListSchema.optional() });

export const WaitQuerySchema = z.object({
  wait: z.coerce.number().int().min(0).max(60).default(0),
});

export const BulkRequestSchema = z.strictObject({
  jobs: z.array(z.unknown()).min(1, 'needs at least one job').max(1000, 'at most 1000 jobs'),
});

/**
 * `GET /v1/jobs/{id}/events` as JSON: one page of the log. `cursor` is the `next_cursor` of the
 * previous page (the seq it ended at); `after_seq` says the same thing by name.
 */
export const EventsPageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after_seq: z.coerce.number().int().min(0).max(999_999_999).optional(),
  cursor: z.string().regex(/^\d{1,9}$/, 'must be a next_cursor of this route').transform(Number).optional(),
});

/** The `seq` of the last event a reconnecting SSE client saw. */
export const LastEventIdSchema = z
  .string()
  .trim()
  .regex(/^\d{1,9}$/, 'must be the seq of an event')
  .transform(Number);

export const IdempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const ProjectLimitsSchema = z.strictObject({
  requests_per_minute: z.int().min(1).max(1_000_000).optional(),
  /** jobs submitted per minute, bulk ones each counted; unset: DEFAULT_JOBS_PER_MINUTE, else 10 × requests_per_minute */
  jobs_per_minute: z.int().min(1).max(10_000_000).optional(),
  max_running_jobs: z.int().min(1).max(1_000_000).optional(),
  /** days finished jobs keep their events, attempts, deliveries and artifacts; unset: 30 */
  retention_days: z.int().min(1).max(36_500).optional(),
  /** the project's share of a lane it contends for, against the other projects' weights; unset: 1 */
  weight: z.number().min(0.1).max(100).optional(),
});

const ProjectNameSchema = z.string().trim().min(1).max(100).regex(/^[\w.-]+$/, 'letters, digits, _ . - only');

export const CreateProjectSchema = z.strictObject({
  name: ProjectNameSchema,
  limits: ProjectLimitsSchema.optional(),
});

/** `PATCH /admin/v1/projects/{id}`: a new name and/or limits to set (a number) or remove (null). */
export const UpdateProjectSchema = z
  .strictObject({
    name: ProjectNameSchema.optional(),
    limits: z
      .strictObject({
        requests_per_minute: z.int().min(1).max(1_000_000).nullable().optional(),
        jobs_per_minute: z.int().min(1).max(10_000_000).nullable().optional(),
        max_running_jobs: z.int().min(1).max(1_000_000).nullable().optional(),
        retention_days: z.int().min(1).max(36_500).nullable().optional(),
        weight: z.number().min(0.1).max(100).nullable().optional(),
      })
      .optional(),
  })
  .refine((body) => body.name !== undefined || body.limits !== undefined, 'name or limits is required');

export const CreateApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
});
