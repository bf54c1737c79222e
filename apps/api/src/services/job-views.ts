import { z } from 'zod';
import { JOB_EVENT_TYPES, PublicJobSchema, toPublicJob, withSignedArtifactUrls, type PublicJob } from '@genqueue/core';
import type { ArtifactsRepository, Job, JobEvent } from '@genqueue/db';
import type { ArtifactUrls } from './artifact-urls';

/** An event of a job's log (api.md): `data` is the job as it was after the change. */
export const PublicEventSchema = z.object({
  id: z.string(),
  object: z.literal('event'),
  type: z.enum(JOB_EVENT_TYPES),
  job_id: z.string(),
  seq: z.int().min(1),
  created_at: z.string(),
  data: PublicJobSchema,
});
export type PublicEvent = z.output<typeof PublicEventSchema>;

/** What the admin routes answer for a job: the job and its project. */
export const AdminJobSchema = PublicJobSchema.extend({ project_id: z.string() });

/** `GET /admin/v1/jobs/{id}`: with the project's name and the worker's raw upstream task state. */
export const AdminJobDetailSchema = AdminJobSchema.extend({
  project_name: z.string(),
  upstream_state: z.unknown().describe('the worker’s raw task state, null when it has none'),
});

/** `GET /admin/v1/events` frames: each event with its project. */
export const AdminEventSchema = PublicEventSchema.extend({ project_id: z.string() });

/** `{"object": "list", "data": [...]}`, with `next_cursor` when the list pages. */
export const listSchema = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });
export const pagedListSchema = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal('list'), data: z.array(item), next_cursor: z.string().nullable().describe('pass as cursor for the next page; null on the last') });

/** Builds the wire form of jobs and events, with fresh signed artifact URLs. */
export class JobViews {
  constructor(
    private readonly artifacts: ArtifactsRepository,
    private readonly urls: ArtifactUrls,
  ) {}

  async one(job: Job): Promise<PublicJob> {
    const artifacts = await this.artifacts.listForJob(job.id);
    return toPublicJob(job, artifacts, await this.urls.signerFor(artifacts));
  }

  /** A job this request just created: it has no artifacts yet, so nothing is read. */
  created(job: Job): PublicJob {
    return toPublicJob(job, []);
  }

  async many(jobs: Job[]): Promise<PublicJob[]> {
    const byJob = await this.artifacts.listForJobs(jobs.map((j) => j.id));
    const sign = await this.urls.signerFor([...byJob.values()].flat());
    return jobs.map((job) => toPublicJob(job, byJob.get(job.id) ?? [], sign));
  }

  event(event: JobEvent): PublicEvent {
    return {
      id: event.id,
      object: 'event',
      type: event.type as PublicEvent['type'],
      job_id: event.jobId,
      seq: event.seq,
      created_at: event.createdAt.toISOString(),
      data: withSignedArtifactUrls(event.data as unknown as PublicJob, this.urls.sign) as PublicEvent['data'],
    };
  }
}
