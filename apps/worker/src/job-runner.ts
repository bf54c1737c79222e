import { findJobType, isFinalStatus, type JobError, type JobStatus } from '@genqueue/core';
import type { ArtifactsRepository, Change, Job, JobPatch, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import { decideFailure } from './failure-policy';
import { HANDLERS } from './handlers';
import type { ArtifactWriter } from './media/artifact-writer';
import type { MediaResolver } from './media/media-resolver';

export type RunnerDeps = {
  jobs: JobsRepository;
  artifacts: ArtifactsRepository;
  events: JobEventBus;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifactWriter: ArtifactWriter;
  logger: Logger;
};

/** How a run ended, for the BullMQ processor to act on. */
export type RunOutcome =
  | { kind: 'done' }
  | { kind: 'retry'; error: JobError }
  | { kind: 'rate_limited'; error: JobError };

/** Runs one job to its end or to its next retry. Safe to call again for the same job (stalled re-runs). */
export class JobRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(jobId: string, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<RunOutcome> {
    const { jobs, logger } = this.deps;
    let job = await jobs.findById(jobId);
    if (!job || isFinalStatus(job.status)) return { kind: 'done' };

    if (job.status === 'queued') {
      if (job.queueExpiresAt.getTime() < Date.now()) {
        await this.finish(job.id, 'expired', { error: { code: 'expired', message: 'The job did not start within its queue TTL', retryable: false } });
        return { kind: 'done' };
      }
      const started = await this.change(() => jobs.transition(job!.id, 'running'));
      if (!started) return { kind: 'done' };
      job = started;
    }
    if (job.deadlineAt && job.deadlineAt.getTime() < Date.now()) {
      await this.finish(job.id, 'failed', { error: { code: 'upstream_timeout', message: 'The job passed its deadline', retryable: false } });
      return { kind: 'done' };
    }

    const handler = HANDLERS[job.type];
    if (!handler || !findJobType(job.type)) {
      await this.finish(job.id, 'failed', { error: { code: 'internal_error', message: `No worker handles ${job.type}`, retryable: false } });
      return { kind: 'done' };
    }

    // Outputs of an interrupted earlier run are not this run's outputs.
    await this.deps.artifacts.detachFromJob(job.id);
    const deadline = AbortSignal.timeout(Math.max(1, (job.deadlineAt?.getTime() ?? Date.now() + 600_000) - Date.now()));
    const signal = AbortSignal.any([ctx.signal, deadline]);
    try {
      const result = await handler({
        job,
        upstream: this.deps.upstream,
        media: this.deps.media,
        artifacts: this.deps.artifactWriter,
        signal,
        logger: logger.child({ jobId: job.id, type: job.type }),
      });
      await this.finish(job.id, 'succeeded', { output: result.output, error: null });
      return { kind: 'done' };
    } catch (err) {
      if (deadline.aborted) {
        await this.finish(job.id, 'failed', { error: { code: 'upstream_timeout', message: 'The job passed its deadline', retryable: false } });
        return { kind: 'done' };
      }
      const decision = decideFailure(err);
      logger.warn({ jobId: job.id, err, action: decision.action }, 'job.attempt_failed');
      if (decision.action === 'rate_limited') return { kind: 'rate_limited', error: decision.error };
      if (decision.action === 'retry' && !ctx.isLastAttempt) {
        await jobs.updateRunning(job.id, { error: decision.error });
        return { kind: 'retry', error: decision.error };
      }
      await this.finish(job.id, 'failed', { error: decision.error });
      return { kind: 'done' };
    }
  }

  private async finish(jobId: string, to: JobStatus, patch: JobPatch): Promise<void> {
    await this.change(() => this.deps.jobs.transition(jobId, to, patch));
  }

  /** Applies a guarded change and announces it; null when another actor changed the job first. */
  private async change(apply: () => Promise<Change | null>): Promise<Job | null> {
    const change = await apply();
    if (!change) return null;
    await this.deps.events.publish({
      jobId: change.job.id,
      projectId: change.job.projectId,
      seq: change.event.seq,
      status: change.job.status,
      type: change.event.type,
    });
    return change.job;
  }
}
