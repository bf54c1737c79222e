import type { JobError } from '@genqueue/core';
import type { JobAttemptOutcome, JobAttemptsRepository, WriteAlongside } from '@genqueue/db';

/**
 * The attempt log row of a failed run (for the dashboard's job page), written inside the job change
 * that follows from the failure (the final transition, or the running update that keeps the error),
 * so it commits with that change and costs no round trip of its own.
 */
export function attemptLog(attempts: JobAttemptsRepository, outcome: JobAttemptOutcome, error: JobError): WriteAlongside {
  return (tx, job) => attempts.record({ jobId: job.id, attempt: job.attempts, outcome, error }, tx);
}
