import { z } from 'zod';
import { JOB_FAMILIES, type JobFamily } from '@genqueue/core';

export const JobRefSchema = z.object({ jobId: z.string().regex(/^job_[0-9A-Z]{26}$/) });
export type JobRef = z.infer<typeof JobRefSchema>;

/**
 * WARNING: queue names are Redis key prefixes and therefore a persisted contract.
 * Renaming one strands everything still queued under the old name.
 */
export const JOB_QUEUE_NAMES: Record<JobFamily, string> = {
  image: 'job-image',
  video: 'job-video',
  mj: 'job-mj',
  audio: 'job-audio',
  embedding: 'job-embedding',
};
export const MAINTENANCE_QUEUE = 'maintenance';

/** WARNING: API and worker processes meet on this pub/sub channel; both must derive it the same way. */
export function jobEventsChannel(prefix: string): string {
  return `${prefix}:job-events`;
}

export const ALL_QUEUE_NAMES: readonly string[] = [...JOB_FAMILIES.map((f) => JOB_QUEUE_NAMES[f]), MAINTENANCE_QUEUE];

export function queueNameFor(family: JobFamily): string {
  return JOB_QUEUE_NAMES[family];
}

/** The BullMQ backoff type the worker answers with exponential backoff plus jitter. */
export const JITTER_BACKOFF = 'exponential-jitter';

/** Redis memory stays flat: finished BullMQ entries go away (the row in Postgres is the history). */
export const FINISHED_RETENTION = {
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 86_400, count: 10_000 },
};
