import { withLogContext } from '@genqueue/config';
import { JobRefSchema, type ProjectWaitingRoom } from '@genqueue/queue';
import type { JobRunner, RunOutcome } from '../job-runner';
import { outcomeProcessor, withJitter, type BullmqOutcome, type OutcomeProcessorDeps } from './outcome-to-bullmq';

export type JobProcessorDeps = OutcomeProcessorDeps & {
  runner: JobRunner;
  /** where jobs over their project's running limit wait to be woken */
  waitingRoom: Pick<ProjectWaitingRoom, 'wait' | 'wakeOne'>;
  /** the backstop: a waiting job tries to start again after this long (±25 %) if no wake came */
  projectSlotRecheckMs: number;
  /** how many jobs of the project run now (Postgres) */
  runningJobsOf: (projectId: string) => Promise<number>;
};

/** How soon a job interrupted by a shutdown is offered to the other workers. */
const INTERRUPTED_REDELIVERY_MS = 1_000;

/** The BullMQ edge of a job family. */
export function jobProcessor(deps: JobProcessorDeps) {
  return outcomeProcessor(
    deps,
    (data) => JobRefSchema.parse(data),
    // every log line of the run names the job and the API request that submitted it
    ({ jobId, requestId }, ctx) =>
      withLogContext({ job_id: jobId, ...(requestId ? { request_id: requestId } : {}) }, async () => toBullmq(deps, jobId, await deps.runner.run(jobId, ctx))),
  );
}

function toBullmq(deps: JobProcessorDeps, jobId: string, outcome: RunOutcome): BullmqOutcome {
  switch (outcome.kind) {
    case 'park':
      // Not an attempt: the job waits (e.g. for its embedding chunks) without holding a slot.
      return { kind: 'delay', delayMs: outcome.delayMs };
    case 'interrupted':
      return { kind: 'delay', delayMs: INTERRUPTED_REDELIVERY_MS };
    case 'project_at_limit':
      // Still queued, no attempt used: it waits in the project's waiting room until a slot frees (the
      // queue job id is the job id); the jittered backstop covers a wake lost to a Redis failure.
      return { kind: 'delay', delayMs: withJitter(deps.projectSlotRecheckMs), afterDelayed: () => waitForSlot(deps, jobId, outcome) };
    default:
      return outcome;
  }
}

/**
 * Joins the project's waiting list, then looks again: a slot freed between the refused start and
 * joining found nobody to wake, so this wakes one itself. (A slot freed after joining finds this job
 * or an earlier one: either the releaser or this check wakes someone.)
 */
async function waitForSlot(deps: JobProcessorDeps, jobId: string, refused: { projectId: string; maxRunningJobs: number }): Promise<void> {
  await deps.waitingRoom.wait(refused.projectId, deps.queue.name, jobId);
  if ((await deps.runningJobsOf(refused.projectId)) < refused.maxRunningJobs) await deps.waitingRoom.wakeOne(refused.projectId);
}

/** Exponential backoff with ±25 % jitter; never above `maxMs` (the cap applies after the jitter). */
export function jitteredBackoff(baseMs: number, maxMs: number, random: () => number = Math.random) {
  return (attemptsMade: number): number => {
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.min(maxMs, withJitter(exp, random));
  };
}
