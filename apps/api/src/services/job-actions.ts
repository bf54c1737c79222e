import { AppError, findJobType } from '@genqueue/core';
import type { ArtifactsRepository, Job, JobsRepository } from '@genqueue/db';
import type { JobEventBus, JobQueues } from '@genqueue/queue';
import type { JobSubmission } from './job-submission';
import { cancelPatchFor } from './task-parents';

const CANCELABLE: Array<'queued' | 'running'> = ['queued', 'running'];
/** A cancel racing a worker's changes of the same job is tried this often before a 409. */
const CANCEL_TRIES = 3;

/** Cancel and retry: guarded transitions, so a race with a worker has exactly one winner. */
export class JobActions {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly artifacts: ArtifactsRepository,
    private readonly queues: JobQueues,
    private readonly events: JobEventBus,
    private readonly submission: JobSubmission,
  ) {}

  async cancel(job: Job): Promise<Job> {
    const change = await this.cancelTransition(job);
    const spec = findJobType(job.type);
    if (spec) await this.queues.removeIfIdle(spec.family, job.id).catch(() => undefined);
    await this.events.announce(change);
    return change.job;
  }

  async retry(job: Job): Promise<Job> {
    const spec = findJobType(job.type);
    if (!spec) throw new AppError('conflict', `Jobs of type ${job.type} can no longer run`);
    // retention removed its details and may have cut a large input to its size: it cannot run again as it was
    if (job.prunedAt) throw new AppError('conflict', 'The job was pruned by retention (pruned_at); submit it again as a new job');
    const change = await this.jobs.transition(job.id, 'queued', {}, ['failed', 'canceled']);
    if (!change) throw new AppError('conflict', `Only failed or canceled jobs can be retried; this one is ${await this.statusOf(job)}`);
    // A finished BullMQ entry of the previous run would make the add below a no-op: drop it. If a
    // worker still holds it, the sweeper re-adds the job once that run has ended.
    await this.queues.removeIfIdle(spec.family, job.id);
    await this.submission.enqueue(spec.family, change.job);
    await this.events.announce(change);
    return change.job;
  }

  /**
   * The guarded change to `canceled`. A worker may start the job between the read and the write of
   * one try (queued → running): the job is still cancelable then, so the change is tried again.
   */
  private async cancelTransition(job: Job) {
    for (let tries = 0; tries < CANCEL_TRIES; tries += 1) {
      const change = await this.jobs.transition(job.id, 'canceled', cancelPatchFor(job), CANCELABLE);
      if (change) return change;
      const status = await this.statusOf(job);
      if (!CANCELABLE.includes(status as (typeof CANCELABLE)[number])) throw new AppError('conflict', `The job is ${status} and can no longer be canceled`);
    }
    throw new AppError('conflict', 'The job is changing status right now; try the cancel again');
  }

  private async statusOf(job: Job): Promise<string> {
    return (await this.jobs.findById(job.id))?.status ?? job.status;
  }
}
