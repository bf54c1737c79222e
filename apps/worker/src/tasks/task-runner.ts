import type { JobError } from '@genqueue/core';
import type { Job, JobPatch } from '@genqueue/db';
import { decideFailure, heldOutcome, retriedOutcome } from '../failure-policy';
import { withJitter } from '../jitter';
import { DEADLINE_ERROR, DONE, RunLifecycle } from '../run-lifecycle';
import type { JobServices, RunOutcome } from '../run-types';
import { errorBackoffDelay, nextPollDelay, type PollSchedule } from './poll-schedule';
import type { TaskCosts } from '../costs/cost-recorder';
import type { SubmitAnswer, TaskContext, TaskKind, TaskSnapshot } from './task-kind';
import { describeUnknownOutcome, isUnknownSubmitOutcome } from './submit-outcome';
import { readTaskState, type TaskState } from './task-state';
import { typedJob } from '../handlers/typed-job';

export type TaskRunnerDeps = JobServices & {
  /** job type → its task family (createTaskKinds: the gateway task types of the worker's registry) */
  kinds: ReadonlyMap<string, TaskKind>;
  schedule: PollSchedule;
  /** consecutive failed calls (429, 5xx, network) before the job fails */
  maxConsecutiveErrors: number;
  /** polls that may not find the task (the gateway's insert lags the submit answer) before the job fails */
  notFoundRetries: number;
  /**
   * Longer than any submit call can last. A `submitting` phase younger than this may belong to a
   * call still in flight in another run (BullMQ re-runs a job whose lock lapsed while the first
   * run still works): resubmitting then would bill twice, so the job waits until it has passed.
   */
  submitGuardMs: number;
};

const INACTIVITY_ERROR: JobError = { code: 'upstream_timeout', message: 'No progress from the gateway within the inactivity timeout', retryable: false };

type RunContext = { isLastAttempt: boolean; signal: AbortSignal };

/**
 * Gateway task kinds (video, MJ): each run does one step and parks the job (a delayed BullMQ job),
 * so no slot is held while the gateway works. The step is chosen from the row alone, so any run
 * may be the last one of a dead worker and the next run carries on:
 * no task id → submit (once: `upstream_state.phase` says whether a submit may be in flight);
 * a task id → poll it, mirror progress, and on success copy the result into storage.
 */
/** How soon a run that lost the race to mark a submit looks at the job again (it then sees `submitting` or the task id). */
const SUBMIT_RACE_RECHECK_MS = 1_000;
/** Writes of an accepted task id tried within the run before the job parks with the id kept in memory. */
const SAVE_SUBMITTED_TRIES = 3;
const SAVE_SUBMITTED_RETRY_MS = 250;

type AcceptedAnswer = Extract<SubmitAnswer, { kind: 'accepted' }>;

export class TaskRunner {
  /** Accepted submits whose task id could not be written yet, by job id (`markedAt`: the window they belong to). */
  private readonly acceptedNotSaved = new Map<string, { markedAt: string; answer: AcceptedAnswer }>();

  /** the cost ledger, set by the worker's composition root when it runs one */
  private costs: TaskCosts | undefined;

  private readonly lifecycle: RunLifecycle;

  constructor(private readonly deps: TaskRunnerDeps) {
    this.lifecycle = new RunLifecycle(deps);
  }

  setCosts(costs: TaskCosts): void {
    this.costs = costs;
  }

  handles(type: string): boolean {
    return this.deps.kinds.has(type);
  }

  /** `job` is running: the job runner starts every job (TaskRunnerPort). */
  async run(job: Job, ctx: RunContext): Promise<RunOutcome> {
    const { jobs } = this.deps;
    const now = Date.now();
    if (job.deadlineAt && job.deadlineAt.getTime() < now) return this.fail(job, DEADLINE_ERROR);
    if (job.lastProgressAt && job.lastProgressAt.getTime() + job.inactivityTimeoutSec * 1000 < now) return this.fail(job, INACTIVITY_ERROR);

    const kind = this.deps.kinds.get(job.type) as TaskKind;
    const state = readTaskState(job.upstreamState);
    const tctx: TaskContext = {
      ...typedJob(job),
      job,
      upstream: this.deps.upstream,
      media: this.deps.media,
      artifacts: this.deps.artifactWriter,
      findJob: (id) => jobs.findById(id),
      signal: ctx.signal,
      logger: this.deps.logger.child({ jobId: job.id, type: job.type }),
      ...(this.costs ? { costs: this.costs } : {}),
    };
    try {
      if (!job.upstreamTaskId) return await this.submit(job, kind, state, tctx);
      return await this.poll(job, kind, state, tctx, job.upstreamTaskId);
    } catch (err) {
      return this.afterError(job, state, err, ctx);
    }
  }

  private async submit(job: Job, kind: TaskKind, state: TaskState, tctx: TaskContext): Promise<RunOutcome> {
    const { jobs, logger } = this.deps;
    if (state.phase === 'submitting' || state.phase === 'submit_unknown') return this.reenterWindow(job, kind, state);
    // Media and parent lookups first: the window between "submitting" and a saved id stays one HTTP call.
    const prepared = await kind.prepare(tctx);
    const submitting: TaskState = { ...state, phase: 'submitting', at: new Date().toISOString(), submits: state.submits + 1 };
    // Compare and set on the state this run read: of two runs of one job, only one goes on to submit.
    const marked = await this.lifecycle.step(job.id, { upstreamState: submitting }, { ifUpstreamState: job.upstreamState });
    if (!marked) {
      const current = await jobs.findById(job.id);
      if (current?.status !== 'running') return DONE;
      // another run of this job marked it first: look again once that submit has had its chance
      logger.info({ jobId: job.id }, 'task.submit_taken_by_another_run');
      return { kind: 'park', delayMs: SUBMIT_RACE_RECHECK_MS };
    }
    try {
      return await this.submitMarked(job, kind, submitting, tctx, prepared);
    } catch (err) {
      // A write inside the window failed (Postgres): the row keeps `submitting`, never turned back to
      // `ready`; the next run finds the id kept here, or treats the outcome as unknown.
      logger.warn({ jobId: job.id, err }, 'task.submit_window_write_failed');
      return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, (submitting.errors ?? 0) + 1) };
    }
  }

  /** The call itself, once the window is marked open, and what its answer leads to. */
  private async submitMarked(job: Job, kind: TaskKind, submitting: TaskState, tctx: TaskContext, prepared: unknown): Promise<RunOutcome> {
    let answer;
    try {
      answer = await kind.submit(tctx, prepared);
    } catch (err) {
      return this.afterSubmitError(job, submitting, err);
    }
    if (answer.kind === 'retry_later') {
      // the gateway answered that it created nothing: the window may close back to `ready`
      const queueFull = (submitting.queueFull ?? 0) + 1;
      const error: JobError = { code: 'upstream_error', message: answer.message, retryable: true };
      await this.lifecycle.step(
        job.id,
        { upstreamStatus: answer.upstreamStatus, upstreamState: { ...submitting, phase: 'ready', at: new Date().toISOString(), queueFull }, error },
        { attempt: { outcome: 'retried', error } },
      );
      return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, queueFull) };
    }
    return this.saveSubmitted(job, kind, submitting, answer);
  }

  /** A run found the submit window open and no task id saved: an answer kept here, a call still in flight, or a lost answer. */
  private async reenterWindow(job: Job, kind: TaskKind, state: TaskState): Promise<RunOutcome> {
    const kept = this.acceptedNotSaved.get(job.id);
    if (kept && kept.markedAt === state.at) return this.saveSubmitted(job, kind, state, kept.answer);
    const inFlightUntil = new Date(state.at).getTime() + this.deps.submitGuardMs;
    if (state.phase === 'submitting' && inFlightUntil > Date.now()) {
      this.deps.logger.info({ jobId: job.id, waitMs: inFlightUntil - Date.now() }, 'task.submit_maybe_in_flight');
      return { kind: 'park', delayMs: Math.max(1, inFlightUntil - Date.now()) };
    }
    return this.failSubmitUnknown(job, state, 'its answer was lost: the worker stopped inside the submit window');
  }

  /**
   * The one write that ends the window: the task id, at once, in one guarded statement. The gateway
   * has accepted the task, so a failed write is tried again (it is idempotent) and never turns the
   * phase back: the id is kept in this process until a write succeeds (a later run here saves it);
   * a run elsewhere finds `submitting` and treats the outcome as unknown, never submitting again.
   */
  private async saveSubmitted(job: Job, kind: TaskKind, submitting: TaskState, answer: AcceptedAnswer): Promise<RunOutcome> {
    const { logger } = this.deps;
    this.acceptedNotSaved.set(job.id, { markedAt: submitting.at, answer });
    const at = new Date();
    const patch: JobPatch = {
      upstreamTaskId: answer.taskId,
      upstreamStatus: answer.upstreamStatus,
      upstreamState: { ...submitting, phase: 'polling', at: at.toISOString(), submittedAt: at.toISOString(), errors: 0, missing: 0 },
      lastProgressAt: at,
      ...(answer.progress !== undefined ? { progress: Math.min(99, answer.progress) } : {}),
      ...(answer.waitingNote ? { output: answer.waitingNote } : {}),
      ...(submitting.queueFull ? { error: null } : {}),
    };
    for (let tries = 1; ; tries += 1) {
      let saved;
      try {
        saved = await this.lifecycle.step(job.id, patch);
      } catch (err) {
        if (tries < SAVE_SUBMITTED_TRIES) {
          logger.warn({ jobId: job.id, taskId: answer.taskId, err, tries }, 'task.submitted_save_retry');
          await pause(SAVE_SUBMITTED_RETRY_MS * tries);
          continue;
        }
        logger.error({ jobId: job.id, taskId: answer.taskId, err, tries }, 'task.submitted_not_saved');
        return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, tries) };
      }
      this.acceptedNotSaved.delete(job.id);
      if (!saved) {
        // canceled (or timed out) while the submit was in flight: the task exists upstream regardless
        logger.warn({ jobId: job.id, taskId: answer.taskId }, 'task.submitted_after_job_ended');
        return this.ended(kind, answer.taskId);
      }
      return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, 0) };
    }
  }

  /** The submit may have created a task and no answer says so: the job fails, and only an explicit retry submits again. */
  private failSubmitUnknown(job: Job, state: TaskState, why: string): Promise<RunOutcome> {
    this.deps.logger.warn({ jobId: job.id, why }, 'task.submit_outcome_unknown');
    const error: JobError = {
      code: 'upstream_submit_unknown',
      message: `The outcome of the gateway submit is unknown (${why}). The task may exist upstream, and may run and be billed; genqueue does not submit it again on its own. Retry the job to submit again.`,
      retryable: false,
    };
    return this.fail(job, error, { upstreamState: { ...state, phase: 'submit_unknown', at: new Date().toISOString() } });
  }

  private async afterSubmitError(job: Job, submitting: TaskState, err: unknown): Promise<RunOutcome> {
    const decision = decideFailure(err);
    if (decision.action === 'wait' && !isUnknownSubmitOutcome(err)) {
      // the submit lane is held (held back before it left, or the gateway answered 429/5xx/401/403):
      // nothing was created; the task waits to submit, counting no error and holding no slot
      const held = decision.sent ? { attempt: { outcome: heldOutcome(decision), error: decision.error } } : {};
      await this.lifecycle.step(job.id, { upstreamState: { ...submitting, phase: 'ready' } }, held);
      return { kind: 'park', delayMs: withJitter(decision.delayMs) };
    }
    // a refusal (banned prompt, bad key): the gateway answered, nothing was created
    if (decision.action === 'fail') return this.fail(job, decision.error, { upstreamState: { ...submitting, phase: 'ready' } });
    if (isUnknownSubmitOutcome(err)) return this.failSubmitUnknown(job, submitting, describeUnknownOutcome(err));
    // The gateway answered (429, 500, 503): nothing was created, the window closes back to `ready`.
    const errors = (submitting.errors ?? 0) + 1;
    const state: TaskState = { ...submitting, phase: 'ready', errors };
    if (errors > this.deps.maxConsecutiveErrors) return this.fail(job, decision.error, { upstreamState: state });
    await this.lifecycle.step(job.id, { upstreamState: state, error: decision.error }, { attempt: { outcome: retriedOutcome(decision), error: decision.error } });
    if (decision.action === 'rate_limited') return { kind: 'rate_limited', error: decision.error };
    return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, errors) };
  }

  private async poll(job: Job, kind: TaskKind, state: TaskState, tctx: TaskContext, taskId: string): Promise<RunOutcome> {
    const snapshot = await kind.poll(tctx, taskId);
    const sinceSubmitMs = Date.now() - new Date(state.submittedAt ?? state.at).getTime();
    if (snapshot.state === 'missing') {
      const missing = (state.missing ?? 0) + 1;
      if (missing > this.deps.notFoundRetries) {
        return this.fail(job, { code: 'upstream_error', message: `The gateway does not know task ${taskId} (${missing} polls)`, retryable: true }, {}, kind, taskId);
      }
      await this.lifecycle.step(job.id, { upstreamState: { ...state, missing } });
      return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, 0) };
    }
    const counters = state.missing || state.errors ? { upstreamState: { ...state, missing: 0, errors: 0 } } : {};

    if (snapshot.state === 'failed') {
      return this.fail(job, snapshot.error as JobError, { upstreamStatus: snapshot.rawStatus, ...counters }, kind, taskId);
    }
    if (snapshot.state === 'succeeded') return this.collect(job, kind, state, tctx, taskId, snapshot);

    const isMoved = snapshot.progress !== job.progress || snapshot.rawStatus !== job.upstreamStatus;
    if (isMoved || counters.upstreamState) {
      const stepped = await this.lifecycle.step(
        job.id,
        {
          progress: snapshot.progress,
          upstreamStatus: snapshot.rawStatus,
          ...(isMoved ? { lastProgressAt: new Date() } : {}),
          ...(snapshot.waitingNote ? { output: snapshot.waitingNote } : {}),
          ...counters,
        },
        isMoved ? { event: 'job.progress' } : {},
      );
      if (!stepped) return this.ended(kind, taskId);
    }
    return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, sinceSubmitMs) };
  }

  private async collect(job: Job, kind: TaskKind, state: TaskState, tctx: TaskContext, taskId: string, snapshot: TaskSnapshot): Promise<RunOutcome> {
    const marked = await this.lifecycle.step(job.id, {
      upstreamStatus: snapshot.rawStatus,
      upstreamState: { ...state, phase: 'downloading', at: new Date().toISOString(), missing: 0, errors: 0 },
      lastProgressAt: new Date(),
    });
    if (!marked) return this.ended(kind, taskId);
    // a download interrupted by a crash may have stored a copy already: it is not this run's output
    await this.deps.artifacts.detachFromJob(job.id);
    const output = await kind.collect(tctx, taskId, snapshot);
    kind.release?.(taskId);
    await this.lifecycle.succeed(job.id, { output, upstreamStatus: snapshot.rawStatus });
    return DONE;
  }

  private async afterError(job: Job, state: TaskState, err: unknown, ctx: RunContext): Promise<RunOutcome> {
    if (ctx.signal.aborted) return { kind: 'interrupted' };
    const decision = decideFailure(err);
    this.deps.logger.warn({ jobId: job.id, err, action: decision.action }, 'task.step_failed');
    if (decision.action === 'fail') return this.fail(job, decision.error);
    // The poll lane is held (an outage, its rate): the task still runs upstream; poll again later,
    // counting no error, so a long gateway outage never fails a task that is being billed.
    if (decision.action === 'wait') return { kind: 'park', delayMs: withJitter(decision.delayMs) };
    // 429 / 5xx / network on a poll or a download: keep the state, back off, try again
    const errors = (state.errors ?? 0) + 1;
    if (errors > this.deps.maxConsecutiveErrors) return this.fail(job, decision.error);
    const updated = await this.lifecycle.step(job.id, { upstreamState: { ...state, errors } }, { attempt: { outcome: retriedOutcome(decision), error: decision.error } });
    if (!updated) return DONE;
    return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, errors) };
  }

  private ended(kind: TaskKind, taskId: string): RunOutcome {
    kind.release?.(taskId);
    return DONE;
  }

  private async fail(job: Job, error: JobError, patch: JobPatch = {}, kind?: TaskKind, taskId?: string): Promise<RunOutcome> {
    if (kind && taskId) kind.release?.(taskId);
    await this.lifecycle.fail(job.id, error, patch);
    return DONE;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
