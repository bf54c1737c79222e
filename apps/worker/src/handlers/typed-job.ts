import { isJobType, type JobInput, type JobType } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import { JobFailure } from './job-failure';

/** A job's type and input as the catalog types them; for a union of types, a union told apart by `type`. */
export type TypedJob<T extends JobType = JobType> = { [K in T]: { type: K; input: JobInput<K> } }[T];

/**
 * The one place a stored input is given its type. It is not parsed again: it was parsed with the
 * catalog's schema at submission (defaults filled in) and stored as that output, and parsing a
 * 10,000-input batch on every wake-up would cost for nothing.
 */
export function typedJob(job: Job): TypedJob {
  if (!isJobType(job.type)) throw new JobFailure('internal_error', `No worker handles ${job.type}`);
  return { type: job.type, input: job.input } as TypedJob;
}
