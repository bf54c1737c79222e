import { DelayedError, type Job as BullJob, type Queue } from 'bullmq';
import { withJitter } from '../jitter';

/** What the BullMQ edge does with a run, whichever runner it came from. */
export type BullmqOutcome =
  | { kind: 'done' }
  /** BullMQ retries with backoff: uses up an attempt */
  | { kind: 'retry'; error: { message: string } }
  /** a 429 or a held gateway lane: the whole queue pauses (`pauseMs`, else the setting) and the job waits it out, no attempt used */
  | { kind: 'rate_limited'; pauseMs?: number }
  /** the job runs again after `delayMs` (or when woken), no attempt used; `afterDelayed` runs once it is delayed */
  | { kind: 'delay'; delayMs: number; afterDelayed?: () => Promise<void> };

/** What a runner is told about the attempt it runs. */
export type AttemptContext = { isLastAttempt: boolean; signal: AbortSignal };

export type OutcomeProcessorDeps = {
  /** the queue the processor serves: a 429 pauses all of it, not just one job */
  queue: Queue;
  rateLimitPauseMs: number;
  shutdownSignal: AbortSignal;
};

/**
 * A BullMQ processor that parses the job's payload, runs it and turns the outcome into BullMQ
 * control flow: the only place that does so for every job family.
 */
export function outcomeProcessor<Ref>(
  deps: OutcomeProcessorDeps,
  parse: (data: unknown) => Ref,
  run: (ref: Ref, ctx: AttemptContext) => Promise<BullmqOutcome>,
) {
  return async (bullJob: BullJob, token?: string): Promise<void> => {
    const ref = parse(bullJob.data);
    const isLastAttempt = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1);
    const outcome = await run(ref, { isLastAttempt, signal: deps.shutdownSignal });
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        throw new Error(outcome.error.message);
      case 'rate_limited': {
        // The gateway sends no Retry-After: pause the lane a little, with jitter so workers do not stampede.
        const pauseMs = outcome.pauseMs !== undefined ? withJitter(outcome.pauseMs) : rateLimitPause(deps.rateLimitPauseMs);
        await deps.queue.rateLimit(pauseMs);
        // The job itself waits as a delayed job: BullMQ wakes a worker when it is due. (Worker.RateLimitError
        // puts it back in `wait` without waking anyone, so it sat until the next idle poll, ~5 s.)
        // Neither way uses up an attempt.
        return delay(bullJob, pauseMs, token);
      }
      case 'delay':
        return delay(bullJob, outcome.delayMs, token, outcome.afterDelayed);
    }
  };
}

/** Moves the job to `delayed` and tells BullMQ so: not an attempt, and no slot held meanwhile. */
async function delay(bullJob: BullJob, delayMs: number, token: string | undefined, afterDelayed?: () => Promise<void>): Promise<never> {
  await bullJob.moveToDelayed(Date.now() + delayMs, token);
  // best effort: without it the job still runs when its delay is over
  await afterDelayed?.().catch(() => undefined);
  throw new DelayedError();
}

export { withJitter };

/** The lane pause after a 429: ±25 % jitter around the setting. */
export const rateLimitPause = withJitter;
