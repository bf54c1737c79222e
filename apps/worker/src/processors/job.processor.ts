import { DelayedError, type Job as BullJob, type Queue } from 'bullmq';
import { JobRefSchema } from '@genqueue/queue';
import type { JobRunner } from '../job-runner';

export type JobProcessorDeps = {
  runner: JobRunner;
  /** the queue this processor serves: a 429 pauses all of it, not just one job */
  queue: Queue;
  rateLimitPauseMs: number;
  shutdownSignal: AbortSignal;
};

/** How soon a job interrupted by a shutdown is offered to the other workers. */
const INTERRUPTED_REDELIVERY_MS = 1_000;

/** The BullMQ edge of a job family: the only place that turns outcomes into BullMQ control flow. */
export function jobProcessor(deps: JobProcessorDeps) {
  return async (bullJob: BullJob, token?: string): Promise<void> => {
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
        const pauseMs = rateLimitPause(deps.rateLimitPauseMs);
        await deps.queue.rateLimit(pauseMs);
        // The job itself waits as a delayed job: BullMQ wakes a worker when it is due. (Worker.RateLimitError
        // puts it back in `wait` without waking anyone, so it sat until the next idle poll, ~5 s.)
        // Neither way uses up an attempt.
        await bullJob.moveToDelayed(Date.now() + pauseMs, token);
        throw new DelayedError();
      }
      case 'park':
        // Not an attempt: the job waits (e.g. for its embedding chunks) without holding a slot.
        await bullJob.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      case 'interrupted':
        await bullJob.moveToDelayed(Date.now() + INTERRUPTED_REDELIVERY_MS, token);
        throw new DelayedError();
    }
  };
}

/** The lane pause after a 429: ±25 % jitter around the setting. */
export function rateLimitPause(baseMs: number, random: () => number = Math.random): number {
  return Math.round(baseMs * (0.75 + random() * 0.5));
}

/** Exponential backoff with ±25 % jitter; never above `maxMs` (the cap applies after the jitter). */
export function jitteredBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number): number => {
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.min(maxMs, Math.round(exp * (0.75 + random() * 0.5)));
  };
}
