import { isFinalStatus, type JobError, type JobStatus } from '@genqueue/core';
import type { Change, Job, JobAttemptOutcome, JobPatch, WriteAlongside } from '@genqueue/db';
import { UpstreamError } from '@genqueue/upstream';
import { attemptLog } from '../attempt-log';
import { decideFailure, type FailureDecision } from '../failure-policy';
import type { JobServices, RunOutcome } from '../job-runner';
import { errorBackoffDelay, nextPollDelay, type PollSchedule } from './poll-schedule';
import type { TaskContext, TaskKind, TaskSnapshot } from './task-kind';
import { readTaskState, type TaskState } from './task-state';

export type TaskRunnerDeps = JobServices & {
  /** job type → its task family */
  kinds: Record<string, TaskKind>;
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

const DEADLINE_ERROR: JobError = { code: 'upstream_timeout', message: 'The job passed its deadline', retryable: false };
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

export class TaskRunner {
  constructor(private readonly deps: TaskRunnerDeps) {}

  handles(type: string): boolean {
    return type in this.deps.kinds;
  }

  async run(found: Job, ctx: RunContext): Promise<RunOutcome> {
    const { jobs } = this.deps;
    let job: Job = found;
    if (isFinalStatus(job.status)) return { kind: 'done' };
    if (job.status === 'queued') {
      if (job.queueExpiresAt.getTime() < Date.now()) {
        await this.finish(job, 'expired', { error: { code: 'expired', message: 'The job did not start within its queue TTL', retryable: false } });
        return { kind: 'done' };
      }
      const started = await this.change(() => jobs.transition(job.id, 'running'));
      if (!started) return { kind: 'done' };
      job = started;
    }
    const now = Date.now();
    if (job.deadlineAt && job.deadlineAt.getTime() < now) return this.fail(job, DEADLINE_ERROR);
    if (job.lastProgressAt && job.lastProgressAt.getTime() + job.inactivityTimeoutSec * 1000 < now) return this.fail(job, INACTIVITY_ERROR);

    const kind = this.deps.kinds[job.type] as TaskKind;
    const state = readTaskState(job.upstreamState);
    const tctx: TaskContext = {
      job,
      upstream: this.deps.upstream,
      media: this.deps.media,
      artifacts: this.deps.artifactWriter,
      findJob: (id) => jobs.findById(id),
      signal: ctx.signal,
      logger: this.deps.logger.child({ jobId: job.id, type: job.type }),
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
    const isResubmit = state.phase === 'submitting';
    const inFlightUntil = new Date(state.at).getTime() + this.deps.submitGuardMs;
    if (isResubmit && inFlightUntil > Date.now()) {
      logger.info({ jobId: job.id, waitMs: inFlightUntil - Date.now() }, 'task.submit_maybe_in_flight');
      return { kind: 'park', delayMs: Math.max(1, inFlightUntil - Date.now()) };
    }
    // Media and parent lookups first: the window between "submitting" and a saved id stays one HTTP call.
    const prepared = await kind.prepare(tctx);
    const submitting: TaskState = {
      ...state,
      phase: 'submitting',
      at: new Date().toISOString(),
      submits: state.submits + 1,
      ...(isResubmit ? { resubmitted: (state.resubmitted ?? 0) + 1 } : {}),
    };
    // A resubmission is on the record (an event) before it happens: the earlier answer was lost.
    // Compare and set on the state this run read: of two runs of one job, only one goes on to submit.
    const marked = await jobs.updateRunning(job.id, { upstreamState: submitting }, isResubmit ? 'job.progress' : undefined, job.upstreamState);
    if (!marked) {
      const current = await jobs.findById(job.id);
      if (current?.status !== 'running') return { kind: 'done' };
      // another run of this job marked it first: look again once that submit has had its chance
      logger.info({ jobId: job.id }, 'task.submit_taken_by_another_run');
      return { kind: 'park', delayMs: SUBMIT_RACE_RECHECK_MS };
    }
    if (marked.event) await this.deps.events.announce(marked as Change);
    if (isResubmit) logger.warn({ jobId: job.id, submits: submitting.submits }, 'task.resubmitting_after_lost_answer');

    let answer;
    try {
      answer = await kind.submit(tctx, prepared);
    } catch (err) {
      return this.afterSubmitError(job, submitting, err);
    }
    if (answer.kind === 'retry_later') {
      const queueFull = (submitting.queueFull ?? 0) + 1;
      const error: JobError = { code: 'upstream_error', message: answer.message, retryable: true };
      await jobs.updateRunning(
        job.id,
        { upstreamStatus: answer.upstreamStatus, upstreamState: { ...submitting, phase: 'ready', at: new Date().toISOString(), queueFull }, error },
        undefined,
        undefined,
        this.logAttempt('retried', error),
      );
      return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, queueFull) };
    }
    // The one write that ends the window: the task id, at once, in one guarded statement.
    const at = new Date();
    const saved = await jobs.updateRunning(job.id, {
      upstreamTaskId: answer.taskId,
      upstreamStatus: answer.upstreamStatus,
      upstreamState: { ...submitting, phase: 'polling', at: at.toISOString(), submittedAt: at.toISOString(), errors: 0, missing: 0 },
      lastProgressAt: at,
      ...(answer.progress !== undefined ? { progress: Math.min(99, answer.progress) } : {}),
      ...(answer.waitingNote ? { output: answer.waitingNote } : {}),
      ...(submitting.queueFull ? { error: null } : {}),
    });
    if (!saved) {
      // canceled (or timed out) while the submit was in flight: the task exists upstream regardless
      logger.warn({ jobId: job.id, taskId: answer.taskId }, 'task.submitted_after_job_ended');
      kind.release?.(answer.taskId);
      return { kind: 'done' };
    }
    return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, 0) };
  }

  private async afterSubmitError(job: Job, submitting: TaskState, err: unknown): Promise<RunOutcome> {
    const decision = decideFailure(err);
    if (decision.action === 'fail') return this.fail(job, decision.error, { upstreamState: { ...submitting, phase: 'ready' } });
    const errors = (submitting.errors ?? 0) + 1;
    // An HTTP answer means the gateway created nothing; without one (timeout, reset) it may have:
    // the phase stays `submitting`, so the next run's submit is recorded as a resubmission.
    const isAnswered = err instanceof UpstreamError && err.httpStatus !== undefined;
    const state: TaskState = { ...submitting, phase: isAnswered ? 'ready' : 'submitting', errors };
    if (errors > this.deps.maxConsecutiveErrors) return this.fail(job, decision.error, { upstreamState: state });
    await this.deps.jobs.updateRunning(job.id, { upstreamState: state, error: decision.error }, undefined, undefined, this.logRetry(decision));
    if (decision.action === 'rate_limited') return { kind: 'rate_limited', error: decision.error };
    return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, errors) };
  }

  private async poll(job: Job, kind: TaskKind, state: TaskState, tctx: TaskContext, taskId: string): Promise<RunOutcome> {
    const { jobs } = this.deps;
    const snapshot = await kind.poll(tctx, taskId);
    const sinceSubmitMs = Date.now() - new Date(state.submittedAt ?? state.at).getTime();
    if (snapshot.state === 'missing') {
      const missing = (state.missing ?? 0) + 1;
      if (missing > this.deps.notFoundRetries) {
        return this.fail(job, { code: 'upstream_error', message: `The gateway does not know task ${taskId} (${missing} polls)`, retryable: true }, {}, kind, taskId);
      }
      await jobs.updateRunning(job.id, { upstreamState: { ...state, missing } });
      return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, 0) };
    }
    const counters = state.missing || state.errors ? { upstreamState: { ...state, missing: 0, errors: 0 } } : {};

    if (snapshot.state === 'failed') {
      return this.fail(job, snapshot.error as JobError, { upstreamStatus: snapshot.rawStatus, ...counters }, kind, taskId);
    }
    if (snapshot.state === 'succeeded') return this.collect(job, kind, state, tctx, taskId, snapshot);

    const isMoved = snapshot.progress !== job.progress || snapshot.rawStatus !== job.upstreamStatus;
    if (isMoved || counters.upstreamState) {
      const change = await jobs.updateRunning(
        job.id,
        {
          progress: snapshot.progress,
          upstreamStatus: snapshot.rawStatus,
          ...(isMoved ? { lastProgressAt: new Date() } : {}),
          ...(snapshot.waitingNote ? { output: snapshot.waitingNote } : {}),
          ...counters,
        },
        isMoved ? 'job.progress' : undefined,
      );
      if (!change) return this.ended(kind, taskId);
      if (change.event) await this.deps.events.announce(change as Change);
    }
    return { kind: 'park', delayMs: nextPollDelay(this.deps.schedule, sinceSubmitMs) };
  }

  private async collect(job: Job, kind: TaskKind, state: TaskState, tctx: TaskContext, taskId: string, snapshot: TaskSnapshot): Promise<RunOutcome> {
    const { jobs, artifacts } = this.deps;
    const marked = await jobs.updateRunning(job.id, {
      upstreamStatus: snapshot.rawStatus,
      upstreamState: { ...state, phase: 'downloading', at: new Date().toISOString(), missing: 0, errors: 0 },
      lastProgressAt: new Date(),
    });
    if (!marked) return this.ended(kind, taskId);
    // a download interrupted by a crash may have stored a copy already: it is not this run's output
    await artifacts.detachFromJob(job.id);
    const output = await kind.collect(tctx, taskId, snapshot);
    kind.release?.(taskId);
    if (!(await this.finish(job, 'succeeded', { output, error: null, upstreamStatus: snapshot.rawStatus }))) await this.discardOutputs(job.id);
    return { kind: 'done' };
  }

  private async afterError(job: Job, state: TaskState, err: unknown, ctx: RunContext): Promise<RunOutcome> {
    if (ctx.signal.aborted) return { kind: 'interrupted' };
    const decision = decideFailure(err);
    this.deps.logger.warn({ jobId: job.id, err, action: decision.action }, 'task.step_failed');
    if (decision.action === 'fail') return this.fail(job, decision.error);
    // 429 / 5xx / network on a poll or a download: keep the state, back off, try again
    const errors = (state.errors ?? 0) + 1;
    if (errors > this.deps.maxConsecutiveErrors) return this.fail(job, decision.error);
    const updated = await this.deps.jobs.updateRunning(job.id, { upstreamState: { ...state, errors } }, undefined, undefined, this.logRetry(decision));
    if (!updated) return { kind: 'done' };
    return { kind: 'park', delayMs: errorBackoffDelay(this.deps.schedule, errors) };
  }

  private ended(kind: TaskKind, taskId: string): RunOutcome {
    kind.release?.(taskId);
    return { kind: 'done' };
  }

  private async fail(job: Job, error: JobError, patch: JobPatch = {}, kind?: TaskKind, taskId?: string): Promise<RunOutcome> {
    if (kind && taskId) kind.release?.(taskId);
    if (await this.finish(job, 'failed', { ...patch, error }, this.logAttempt('failed', error))) await this.deps.artifacts.detachFromJob(job.id);
    return { kind: 'done' };
  }

  /** The attempt log row of a failed step, written with the change that records it. */
  private logAttempt(outcome: JobAttemptOutcome, error: JobError): WriteAlongside {
    return attemptLog(this.deps.attempts, outcome, error);
  }

  /** A step that failed and will be tried again: a 429 is logged as `rate_limited`, anything else as `retried`. */
  private logRetry(decision: FailureDecision): WriteAlongside {
    return this.logAttempt(decision.action === 'rate_limited' ? 'rate_limited' : 'retried', decision.error);
  }

  private async discardOutputs(jobId: string): Promise<void> {
    const current = await this.deps.jobs.findById(jobId);
    if (current && isFinalStatus(current.status) && current.status !== 'succeeded') await this.deps.artifacts.detachFromJob(jobId);
  }

  private async finish(job: Job, to: JobStatus, patch: JobPatch, alongside?: WriteAlongside): Promise<boolean> {
    return (await this.change(() => this.deps.jobs.transition(job.id, to, patch, undefined, alongside))) !== null;
  }

  private async change(apply: () => Promise<Change | null>): Promise<Job | null> {
    const change = await apply();
    if (!change) return null;
    await this.deps.events.announce(change);
    return change.job;
  }
}
