import { newId, type JobError } from '@genqueue/core';
import type { JobAttempt, PrismaClient } from '../generated/prisma/client';
import { asJson, type Db } from './types';

/**
 * WARNING: persisted in `job_attempts.outcome` and read by the admin dashboard.
 * `retried`: a retryable error, the job runs again; `rate_limited`: a gateway 429, the job waits
 * it out; `waited`: the gateway lane was held after this run's request (an outage, a refused key or
 * quota), the job waits without using an attempt; `failed`: the run that ended the job.
 */
export type JobAttemptOutcome = 'retried' | 'rate_limited' | 'waited' | 'failed';

export type JobAttemptEntry = {
  jobId: string;
  /** the job's `attempts` value during the run that failed */
  attempt: number;
  outcome: JobAttemptOutcome;
  error: JobError;
};

/** The log of failed runs of each job: one row per run that failed, whatever came of it. */
export class JobAttemptsRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * One insert. Pass the transaction of the job change it belongs to (the final failure, the
   * running update that records the error), so the row commits with it at no extra round trip.
   */
  async record(entry: JobAttemptEntry, tx: Db = this.db): Promise<void> {
    await tx.jobAttempt.create({
      data: { id: newId('jat'), jobId: entry.jobId, attempt: entry.attempt, outcome: entry.outcome, error: asJson(entry.error) },
    });
  }

  /** Oldest first. */
  listForJob(jobId: string): Promise<JobAttempt[]> {
    return this.db.jobAttempt.findMany({ where: { jobId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }
}
