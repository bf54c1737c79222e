import { Worker, type Job as BullJob, type Queue } from 'bullmq';
import { JobRefSchema } from '@genqueue/queue';
import type { JobRunner } from '../job-runner';

export type JobProcessorDeps = {
  runner: JobRunner;
  /** the queue this processor serves: a 429 pauses all of it, not just one job */
  queue: Queue;
  rateLimitPauseMs: number;
  shutdownSignal: AbortSignal;
};

/** The BullMQ edge of a job family: the only place that turns outcomes into BullMQ control flow. */
export function jobProcessor(deps: JobProcessorDeps) {
  return async (bullJob: BullJob): Promise<void> => {
    const { jobId } = JobRefSchema.parse(bullJob.data);
    const isLastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1);
    const outcome = await deps.runner.run(jobId, { isLastAttempt, signal: deps.shutdownSignal });
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        throw new Error(outcome.error.message);
      case 'rate_limited': {
        // The gateway sends no Retry-After: pause the lane a little, with jitter so workers do not stampede.
        const pauseMs = Math.round(deps.rateLimitPauseMs * (0.75 + Math.random() * 0.5));
        await deps.queue.rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
    }
  };
}

/** Exponential backoff with ±25 % jitter, capped. */
export function jitteredBackoff(baseMs: number, maxMs: number) {
  return (attemptsMade: number): number => {
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(exp * (0.75 + Math.random() * 0.5));
  };
}
