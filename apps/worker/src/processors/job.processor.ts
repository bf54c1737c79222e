import { JobRefSchema } from '@genqueue/queue';
import type { JobRunner, RunOutcome } from '../job-runner';
import { outcomeProcessor, withJitter, type BullmqOutcome, type OutcomeProcessorDeps } from './outcome-to-bullmq';

export type JobProcessorDeps = OutcomeProcessorDeps & { runner: JobRunner };

/** How soon a job interrupted by a shutdown is offered to the other workers. */
const INTERRUPTED_REDELIVERY_MS = 1_000;
/** How soon a job held back by its project's running limit tries to start again (±25 %). */
const PROJECT_SLOT_RECHECK_MS = 1_000;

/** The BullMQ edge of a job family. */
export function jobProcessor(deps: JobProcessorDeps) {
  return outcomeProcessor(
    deps,
    (data) => JobRefSchema.parse(data).jobId,
    async (jobId, ctx) => toBullmq(await deps.runner.run(jobId, ctx)),
  );
}

function toBullmq(outcome: RunOutcome): BullmqOutcome {
  switch (outcome.kind) {
    case 'park':
      // Not an attempt: the job waits (e.g. for its embedding chunks) without holding a slot.
      return { kind: 'delay', delayMs: outcome.delayMs };
    case 'interrupted':
      return { kind: 'delay', delayMs: INTERRUPTED_REDELIVERY_MS };
    case 'project_at_limit':
      // Still queued, no attempt used: the jitter keeps a project's waiting jobs from all retrying at once.
      return { kind: 'delay', delayMs: withJitter(PROJECT_SLOT_RECHECK_MS) };
    default:
      return outcome;
  }
}

/** Exponential backoff with ±25 % jitter; never above `maxMs` (the cap applies after the jitter). */
export function jitteredBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number): number => {
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.min(maxMs, withJitter(exp, random));
  };
}
