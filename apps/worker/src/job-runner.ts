import { findJobType, isFinalStatus, type JobError, type JobStatus } from '@genqueue/core';
import { RunningLimitReached, type Change, type Job, type JobPatch, type WriteAlongside } from '@genqueue/db';
import type { GatewayLaneGovernor } from '@genqueue/queue';
import { attemptLog } from './attempt-log';
import { decideFailure, heldOutcome, unlessTriedTooOften } from './failure-policy';
import { HANDLER_LANES, HANDLERS } from './handlers';
import { storableError, storableOutput } from './handlers/storable';
import type { JobServices, RunOutcome, TaskRunnerPort } from './run-types';
import type { EmbeddingServices } from './embeddings/embedding-services';

export type { JobServices, RunOutcome } from './run-types';

export type RunnerDeps = JobServices & {
  /** JOB_MAX_ATTEMPTS: bounds how often a job's sent runs may fail into a held lane (unlessTriedTooOften) */
  maxAttempts?: number;
  embeddings?: EmbeddingServices;
  /** gateway task kinds (video, mj): submit once, then park and poll */
  tasks?: TaskRunnerPort;
  /**
   * the gateway lanes' gate (the one the upstream client asks): a synchronous job takes its lane's
   * place before it starts, so a lane at its rate costs no start, no attempt and no DB write
   */
  gate?: Pick<GatewayLaneGovernor, 'acquire' | 'withReserved'>;
};

const DEADLINE_ERROR: JobError = { code: 'upstream_timeout', message: 'The job passed its deadline', retryable: false };
/** Jobs without a stored deadline (none today) still get one, so a call can never hang a slot for ever. */
const FALLBACK_DEADLINE_MS = 600_000;

/** Waits before each retry of the write that keeps a received output (then the final write is tried anyway). */
const KEEP_RETRY_DELAYS_MS = [250, 1_000];

/** Types whose handler finds and reuses its own earlier artifacts (embedding.batch's finaliser). */
const REUSES_ITS_ARTIFACTS = new Set(['embedding.batch']);

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

/** Another actor ended the job while this run worked on it (a cancel from the API, the sweeper's timeout). */
class JobEndedElsewhere extends Error {
  override readonly name = 'JobEndedElsewhere';
}

/** Runs one job to its end or to its next retry. Safe to call again for the same job (stalled re-runs). */
export class JobRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(jobId: string, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<RunOutcome> {
    const job = await this.deps.jobs.findById(jobId);
    if (!job || isFinalStatus(job.status)) return { kind: 'done' };
    // at debug: with the log context, an operator follows a request into the worker run by run
    this.deps.logger.debug({ type: job.type, status: job.status, attempts: job.attempts }, 'job.run');
    // A job that will call the gateway takes its lane's place first: when the lane is at its rate
    // (or held) the job waits as it is, without a start, an attempt or a write. A kept result needs no call.
    const lane = job.receivedOutput == null ? HANDLER_LANES[job.type] : undefined;
    const gate = this.deps.gate;
    if (!lane || !gate) return this.runJob(job, ctx);
    let grant: Awaited<ReturnType<typeof gate.acquire>>;
    try {
      grant = await gate.acquire(lane);
    } catch {
      return this.runJob(job, ctx); // the gate's store is unreachable: pacing is best effort
    }
    if (!grant.ok) {
      const error: JobError = { code: 'upstream_error', message: `Waiting ${Math.ceil(grant.waitMs / 1000)} s: the ${lane} lane is held (${grant.reason})`, retryable: true };
      return { kind: 'rate_limited', error, pauseMs: grant.waitMs };
    }
    return gate.withReserved(lane, grant, () => this.runJob(job, ctx));
  }

  private async runJob(found: Job, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<RunOutcome> {
    const { jobs, logger } = this.deps;
    const jobId = found.id;
    let job = found;

    // Every family starts here, task kinds included, so the project's running limit gates each start
    // once; a job already running (a retry, a stalled re-run, a woken task) is not checked again.
    const isStart = job.status === 'queued';
    if (isStart) {
      if (job.queueExpiresAt.getTime() < Date.now()) {
        await this.finish(job.id, 'expired', { error: { code: 'expired', message: 'The job did not start within its queue TTL', retryable: false } });
        return { kind: 'done' };
      }
      const started = await this.start(job.id);
      if (started instanceof RunningLimitReached) return { kind: 'project_at_limit', projectId: started.projectId, maxRunningJobs: started.maxRunningJobs };
      if (!started) return { kind: 'done' };
      job = started;
    }
    // A task kind counts a run only when it starts: a woken task job polls, it does not try again.
    if (this.deps.tasks?.handles(job.type)) return this.deps.tasks.run(job, ctx);
    if (!isStart) {
      const resumed = await jobs.beginAttempt(job.id);
      if (!resumed) return { kind: 'done' };
      job = resumed;
    }
    // An earlier run received the gateway's answer and stored it, then its final write failed or its
    // worker died: finish from what it kept, without calling (and paying) the gateway again.
    const kept = await this.keptOutput(job);
    if (kept) {
      logger.info({ jobId: job.id, type: job.type }, 'job.finished_from_kept_result');
      if (!(await this.finish(job.id, 'succeeded', { output: kept, error: null }))) await this.discardOutputs(job.id);
      return { kind: 'done' };
    }
    if (job.deadlineAt && job.deadlineAt.getTime() < Date.now()) {
      await this.fail(job.id, DEADLINE_ERROR);
      return { kind: 'done' };
    }

    const handler = HANDLERS[job.type];
    if (!handler || !findJobType(job.type)) {
      await this.fail(job.id, { code: 'internal_error', message: `No worker handles ${job.type}`, retryable: false });
      return { kind: 'done' };
    }

    // Outputs of an interrupted earlier run are not this run's outputs (unless the handler reuses
    // them itself: a batch finaliser's artifacts are whole once their row exists).
    if (!REUSES_ITS_ARTIFACTS.has(job.type)) await this.deps.artifacts.detachFromJob(job.id);
    const endedElsewhere = new AbortController();
    const stopListening = await this.deps.events
      .listen(job.id, (signal) => {
        if (isFinalStatus(signal.status)) endedElsewhere.abort(new JobEndedElsewhere(`job ${jobId} is ${signal.status}`));
      })
      .catch(() => () => undefined);
    const deadline = AbortSignal.timeout(Math.max(1, (job.deadlineAt?.getTime() ?? Date.now() + FALLBACK_DEADLINE_MS) - Date.now()));
    const signal = AbortSignal.any([ctx.signal, deadline, endedElsewhere.signal]);
    let output: Record<string, unknown>;
    try {
      const result = await handler({
        job,
        upstream: this.deps.upstream,
        media: this.deps.media,
        artifacts: this.deps.artifactWriter,
        signal,
        logger: logger.child({ jobId: job.id, type: job.type }),
        ...(this.deps.embeddings ? { embeddings: this.deps.embeddings } : {}),
      });
      if ('park' in result) return { kind: 'park', delayMs: result.park.delayMs };
      // gateway text may carry U+0000, which jsonb refuses: the final write would fail on every run
      const storable = storableOutput(result.output);
      if (storable.removed > 0) logger.warn({ jobId: job.id, type: job.type, removed: storable.removed }, 'job.output_sanitized');
      output = storable.output;
    } catch (err) {
      return await this.afterFailure(job, err, { ...ctx, deadline, endedElsewhere: endedElsewhere.signal });
    } finally {
      stopListening();
    }
    // The answer is received and its outputs are stored: keep them before the final write, so a run
    // after a failed write or a dead worker finishes from them (keptOutput).
    await this.keepOutput(job.id, output);
    if (!(await this.finish(job.id, 'succeeded', { output, error: null }))) await this.discardOutputs(job.id);
    return { kind: 'done' };
  }

  /** Records the received output on the running job; a blip is retried, a lasting failure only logged (the final write follows). */
  private async keepOutput(jobId: string, output: Record<string, unknown>): Promise<void> {
    for (let i = 0; ; i += 1) {
      try {
        await this.deps.jobs.keepReceivedOutput(jobId, output);
        return;
      } catch (err) {
        if (i >= KEEP_RETRY_DELAYS_MS.length) {
          this.deps.logger.warn({ jobId, err }, 'job.keep_result_failed');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, KEEP_RETRY_DELAYS_MS[i]));
      }
    }
  }

  /** The output an earlier run kept, when every artifact it names is still the job's; else null. */
  private async keptOutput(job: Job): Promise<Record<string, unknown> | null> {
    const kept = job.receivedOutput;
    if (!kept || typeof kept !== 'object' || Array.isArray(kept)) return null;
    const attached = new Set((await this.deps.artifacts.listForJob(job.id)).map((a) => a.id));
    return artifactIdsIn(kept).every((id) => attached.has(id)) ? (kept as Record<string, unknown>) : null;
  }

  private async afterFailure(
    job: Job,
    err: unknown,
    ctx: { isLastAttempt: boolean; signal: AbortSignal; deadline: AbortSignal; endedElsewhere: AbortSignal },
  ): Promise<RunOutcome> {
    const { jobs, logger } = this.deps;
    // Which signal fired decides, not the error: an aborted call throws whatever its library throws.
    if (ctx.endedElsewhere.aborted) {
      logger.info({ jobId: job.id, reason: String(ctx.endedElsewhere.reason) }, 'job.ended_while_running');
      await this.discardOutputs(job.id);
      return { kind: 'done' };
    }
    if (ctx.deadline.aborted) {
      await this.fail(job.id, DEADLINE_ERROR);
      return { kind: 'done' };
    }
    if (ctx.signal.aborted) {
      logger.info({ jobId: job.id }, 'job.interrupted_by_shutdown');
      return { kind: 'interrupted' };
    }
    const decided = unlessTriedTooOften(decideFailure(err), job.attempts, this.deps.maxAttempts ?? Number.POSITIVE_INFINITY);
    // the message may quote the gateway, NUL characters included
    const decision = { ...decided, error: storableError(decided.error) };
    logger.warn({ jobId: job.id, err, action: decision.action }, 'job.attempt_failed');
    if (decision.action === 'wait') {
      // the lane is held (its rate, a 429, an outage, a refused key): pause it, no attempt used
      if (decision.sent) {
        await this.deps.attempts
          .record({ jobId: job.id, attempt: job.attempts, outcome: heldOutcome(decision), error: decision.error })
          .catch((logErr: unknown) => logger.warn({ jobId: job.id, err: logErr }, 'job.attempt_log_failed'));
      } else {
        // nothing left this process: the run did not try, so it does not count
        await jobs.returnAttempt(job.id).catch(() => undefined);
      }
      return { kind: 'rate_limited', error: decision.error, pauseMs: decision.delayMs };
    }
    if (decision.action === 'rate_limited') {
      // nothing else changes on the row: a single insert, best effort (the lane pause matters more)
      await this.deps.attempts
        .record({ jobId: job.id, attempt: job.attempts, outcome: 'rate_limited', error: decision.error })
        .catch((logErr: unknown) => logger.warn({ jobId: job.id, err: logErr }, 'job.attempt_log_failed'));
      return { kind: 'rate_limited', error: decision.error };
    }
    if (decision.action === 'retry' && !ctx.isLastAttempt) {
      await jobs.updateRunning(job.id, { error: decision.error }, undefined, undefined, attemptLog(this.deps.attempts, 'retried', decision.error));
      return { kind: 'retry', error: decision.error };
    }
    await this.fail(job.id, decision.error);
    return { kind: 'done' };
  }

  /** Fails the job (its attempt log row with it); outputs a run stored before it failed (the first of n images) go with it. */
  private async fail(jobId: string, error: JobError): Promise<void> {
    if (await this.finish(jobId, 'failed', { error }, attemptLog(this.deps.attempts, 'failed', error))) await this.deps.artifacts.detachFromJob(jobId);
  }

  /**
   * This run lost the job (canceled, failed by the sweeper): its stored outputs are not the job's.
   * When another run of the same job succeeded meanwhile, the outputs are that run's and stay.
   */
  private async discardOutputs(jobId: string): Promise<void> {
    const current = await this.deps.jobs.findById(jobId);
    if (current && isFinalStatus(current.status) && current.status !== 'succeeded') await this.deps.artifacts.detachFromJob(jobId);
  }

  /** queued → running; null when another actor moved the job first; the refusal when the project is full. */
  private async start(jobId: string): Promise<Job | null | RunningLimitReached> {
    try {
      return await this.change(() => this.deps.jobs.transition(jobId, 'running'));
    } catch (err) {
      if (!(err instanceof RunningLimitReached)) throw err;
      this.deps.logger.debug({ jobId, projectId: err.projectId, maxRunningJobs: err.maxRunningJobs }, 'job.waiting_for_project_slot');
      return err;
    }
  }

  private async finish(jobId: string, to: JobStatus, patch: JobPatch, alongside?: WriteAlongside): Promise<boolean> {
    return (await this.change(() => this.deps.jobs.transition(jobId, to, patch, undefined, alongside))) !== null;
  }

  /** Applies a guarded change and announces it; null when another actor changed the job first. */
  private async change(apply: () => Promise<Change | null>): Promise<Job | null> {
    const change = await apply();
    if (!change) return null;
    await this.deps.events.announce(change);
    return change.job;
  }
}
