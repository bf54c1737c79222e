import { isFinalStatus, type JobError, type JobEventType, type JobStatus } from '@genqueue/core';
import { RunningLimitReached, type Change, type Job, type JobAttemptOutcome, type JobPatch, type WriteAlongside } from '@genqueue/db';
import { attemptLog } from './attempt-log';
import type { JobServices, RunOutcome } from './run-types';

/**
 * The steps of a run every runner shares (the job runner, the task runner, the embedding batch's
 * progress): start, a step of a running job, the final write (success or failure), and letting go
 * of outputs when another actor ended the job first. Each is a guarded change (the loser of a race
 * writes nothing) announced once it is committed.
 */

export type LifecycleServices = Pick<JobServices, 'jobs' | 'attempts' | 'artifacts' | 'events' | 'logger'>;

export const DONE: RunOutcome = { kind: 'done' };
export const DEADLINE_ERROR: JobError = { code: 'upstream_timeout', message: 'The job passed its deadline', retryable: false };
const EXPIRED_ERROR: JobError = { code: 'expired', message: 'The job did not start within its queue TTL', retryable: false };

/** Waits before each retry of the write that keeps a received output (then the final write is tried anyway). */
const KEEP_RETRY_DELAYS_MS = [250, 1_000];

/** The job this run goes on with, or how the run ends before it began. */
export type Started = { job: Job } | { outcome: RunOutcome };

/** A step's options: an event to write (and announce), a compare-and-set on the upstream state, an attempt-log row. */
export type StepOptions = {
  event?: JobEventType;
  ifUpstreamState?: Job['upstreamState'];
  attempt?: { outcome: JobAttemptOutcome; error: JobError };
};

/**
 * Updates a running job; announces the change when it wrote an event. Null when the job is no longer
 * running (or its upstream state moved, with `ifUpstreamState`). Needs only the jobs and the event bus.
 */
export async function stepRunning(
  svc: Pick<JobServices, 'jobs' | 'events'>,
  jobId: string,
  patch: JobPatch,
  options: StepOptions & { alongside?: WriteAlongside } = {},
): Promise<Job | null> {
  const change = await svc.jobs.updateRunning(jobId, patch, options.event, options.ifUpstreamState, options.alongside);
  if (!change) return null;
  // the whole change: its webhook deliveries are queued now, not at the next sweep
  if (change.event) await svc.events.announce(change as Change);
  return change.job;
}

export class RunLifecycle {
  constructor(private readonly svc: LifecycleServices) {}

  /**
   * queued → running, the one start of every job family (task kinds included), so the project's
   * running limit gates each start once. A job past its queue TTL expires instead.
   */
  async start(job: Job): Promise<Started> {
    if (job.queueExpiresAt.getTime() < Date.now()) {
      await this.finish(job.id, 'expired', { error: EXPIRED_ERROR });
      return { outcome: DONE };
    }
    try {
      const started = await this.change(() => this.svc.jobs.transition(job.id, 'running'));
      return started ? { job: started } : { outcome: DONE };
    } catch (err) {
      if (!(err instanceof RunningLimitReached)) throw err;
      this.svc.logger.debug({ jobId: job.id, projectId: err.projectId, maxRunningJobs: err.maxRunningJobs }, 'job.waiting_for_project_slot');
      return { outcome: { kind: 'project_at_limit', projectId: err.projectId, maxRunningJobs: err.maxRunningJobs } };
    }
  }

  /** Counts another run of a job already running (a retry, a stalled re-run); null when it ended meanwhile. */
  resume(jobId: string): Promise<Job | null> {
    return this.svc.jobs.beginAttempt(jobId);
  }

  /** A step of a running job (see stepRunning); `attempt` writes the attempt-log row inside the same change. */
  step(jobId: string, patch: JobPatch, options: StepOptions = {}): Promise<Job | null> {
    const alongside = options.attempt ? attemptLog(this.svc.attempts, options.attempt.outcome, options.attempt.error) : undefined;
    return stepRunning(this.svc, jobId, patch, { ...options, ...(alongside ? { alongside } : {}) });
  }

  /** The attempt-log row of a run that changed nothing on the job (a 429, a held lane): best effort. */
  async recordAttempt(job: Job, outcome: JobAttemptOutcome, error: JobError): Promise<void> {
    await this.svc.attempts
      .record({ jobId: job.id, attempt: job.attempts, outcome, error })
      .catch((err: unknown) => this.svc.logger.warn({ jobId: job.id, err }, 'job.attempt_log_failed'));
  }

  /** running → succeeded. When another actor ended the job first, this run's outputs are let go. */
  async succeed(jobId: string, patch: JobPatch): Promise<boolean> {
    if (await this.finish(jobId, 'succeeded', { ...patch, error: null })) return true;
    await this.discard(jobId);
    return false;
  }

  /** Fails the job (its attempt-log row with it); outputs the run stored before it failed go with it. */
  async fail(jobId: string, error: JobError, patch: JobPatch = {}): Promise<boolean> {
    const failed = await this.finish(jobId, 'failed', { ...patch, error }, attemptLog(this.svc.attempts, 'failed', error));
    if (failed) await this.svc.artifacts.detachFromJob(jobId);
    return failed;
  }

  /**
   * This run lost the job (canceled, failed by the sweeper): its stored outputs are not the job's.
   * When another run of the same job succeeded meanwhile, the outputs are that run's and stay.
   */
  async discard(jobId: string): Promise<void> {
    const current = await this.svc.jobs.findById(jobId);
    if (current && isFinalStatus(current.status) && current.status !== 'succeeded') await this.svc.artifacts.detachFromJob(jobId);
  }

  /**
   * Keeps a received output on the running job before the final write, so a run after a failed
   * write or a dead worker finishes from it (keptOutput). A blip is retried, a lasting failure only
   * logged (the final write follows).
   */
  async keep(jobId: string, output: Record<string, unknown>): Promise<void> {
    for (let i = 0; ; i += 1) {
      try {
        await this.svc.jobs.keepReceivedOutput(jobId, output);
        return;
      } catch (err) {
        if (i >= KEEP_RETRY_DELAYS_MS.length) {
          this.svc.logger.warn({ jobId, err }, 'job.keep_result_failed');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, KEEP_RETRY_DELAYS_MS[i]));
      }
    }
  }

  /** The output an earlier run kept, when every artifact it names is still the job's; else null. */
  async keptOutput(job: Job): Promise<Record<string, unknown> | null> {
    const kept = job.receivedOutput;
    if (!kept || typeof kept !== 'object' || Array.isArray(kept)) return null;
    const attached = new Set((await this.svc.artifacts.listForJob(job.id)).map((a) => a.id));
    return artifactIdsIn(kept).every((id) => attached.has(id)) ? (kept as Record<string, unknown>) : null;
  }

  private async finish(jobId: string, to: JobStatus, patch: JobPatch, alongside?: WriteAlongside): Promise<boolean> {
    return (await this.change(() => this.svc.jobs.transition(jobId, to, patch, undefined, alongside))) !== null;
  }

  /** Applies a guarded change and announces it; null when another actor changed the job first. */
  private async change(apply: () => Promise<Change | null>): Promise<Job | null> {
    const change = await apply();
    if (!change) return null;
    await this.svc.events.announce(change);
    return change.job;
  }
}

/** Every `artifact_id` named anywhere in an output. */
export function artifactIdsIn(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) artifactIdsIn(item, into);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'artifact_id' && typeof item === 'string') into.push(item);
      else artifactIdsIn(item, into);
    }
  }
  return into;
}
