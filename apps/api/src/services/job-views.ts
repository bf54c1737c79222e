import { toPublicJob, withSignedArtifactUrls, type PublicJob } from '@genqueue/core';
import type { ArtifactsRepository, Job, JobEvent } from '@genqueue/db';
import type { ArtifactUrls } from './artifact-urls';

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

  async many(jobs: Job[]): Promise<PublicJob[]> {
    const byJob = await this.artifacts.listForJobs(jobs.map((j) => j.id));
    const sign = await this.urls.signerFor([...byJob.values()].flat());
    return jobs.map((job) => toPublicJob(job, byJob.get(job.id) ?? [], sign));
  }

  event(event: JobEvent): Record<string, unknown> {
    return {
      id: event.id,
      object: 'event',
      type: event.type,
      job_id: event.jobId,
      seq: event.seq,
      created_at: event.createdAt.toISOString(),
      data: withSignedArtifactUrls(event.data as unknown as PublicJob, this.urls.sign),
    };
  }
}
