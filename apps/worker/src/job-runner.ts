import { isFinalStatus, type JobError } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { GatewayLaneGovernor } from '@genqueue/queue';
import { decideFailure, heldOutcome, unlessTriedTooOften } from './failure-policy';
import { handlerOf, laneOfJobType } from './handlers';
import { typedJob } from './handlers/typed-job';
import { storableError, storableOutput } from './handlers/storable';
import { DEADLINE_ERROR, DONE, RunLifecycle } from './run-lifecycle';
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

/** Jobs without a stored deadline (none today) still get one, so a call can never hang a slot for ever. */
const FALLBACK_DEADLINE_MS = 600_000;

/** Types whose handler finds and reuses its own earlier artifacts (embedding.batch's finaliser). */
const REUSES_ITS_ARTIFACTS = new Set(['embedding.batch']);

/** Another actor ended the job while this run worked on it (a cancel from the API, the sweeper's timeout). */
class JobEndedElsewhere extends Error {
  override readonly name = 'JobEndedElsewhere';
}

/** Runs one job to its end or to its next retry. Safe to call again for the same job (stalled re-runs). */
export class JobRunner {
  private readonly lifecycle: RunLifecycle;

  constructor(private readonly deps: RunnerDeps) {
    this.lifecycle = new RunLifecycle(deps);
  }

  async run(jobId: string, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<RunOutcome> {
    const job = await this.deps.jobs.findById(jobId);
    if (!job || isFinalStatus(job.status)) return DONE;
    // at debug: with the log context, an operator follows a request into the worker run by run
    this.deps.logger.debug({ type: job.type, status: job.status, attempts: job.attempts }, 'job.run');
    // A job that will call the gateway takes its lane's place first: when the lane is at its rate
    // (or held) the job waits as it is, without a start, an attempt or a write. A kept result needs no call.
    const lane = job.receivedOutput == null ? laneOfJobType(job.type) : undefined;
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
    const { logger } = this.deps;
    const jobId = found.id;
    let job = found;

    // Every family starts here, task kinds included (the task runner is handed a running job), so the
    // project's running limit gates each start once; a job already running (a retry, a stalled re-run,
    // a woken task) is not checked again.
    const isStart = job.status === 'queued';
    if (isStart) {
      const started = await this.lifecycle.start(job);
      if ('outcome' in started) return started.outcome;
      job = started.job;
    }
    // A task kind counts a run only when it starts: a woken task job polls, it does not try again.
    if (this.deps.tasks?.handles(job.type)) return this.deps.tasks.run(job, ctx);
    if (!isStart) {
      const resumed = await this.lifecycle.resume(job.id);
      if (!resumed) return DONE;
      job = resumed;
    }
    // An earlier run received the gateway's answer and stored it, then its final write failed or its
    // worker died: finish from what it kept, without calling (and paying) the gateway again.
    const kept = await this.lifecycle.keptOutput(job);
    if (kept) {
      logger.info({ jobId: job.id, type: job.type }, 'job.finished_from_kept_result');
      await this.lifecycle.succeed(job.id, { output: kept });
      return DONE;
    }
    if (job.deadlineAt && job.deadlineAt.getTime() < Date.now()) {
      await this.lifecycle.fail(job.id, DEADLINE_ERROR);
      return DONE;
    }

    const handler = handlerOf(job.type);
    if (!handler) {
      await this.lifecycle.fail(job.id, { code: 'internal_error', message: `No worker handles ${job.type}`, retryable: false });
      return DONE;
    }

    // Outputs of an interrupted earlier run are not this run's outputs (unless the handler reuses
    // them itself: a batch finaliser's artifacts are whole once their row exists). A job's first
    // start has had no earlier run: nothing to let go, no statement.
    const isFirstRun = isStart && job.attempts === 1;
    if (!isFirstRun && !REUSES_ITS_ARTIFACTS.has(job.type)) await this.deps.artifacts.detachFromJob(job.id);
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
        ...typedJob(job),
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
    await this.lifecycle.keep(job.id, output);
    await this.lifecycle.succeed(job.id, { output });
    return DONE;
  }

  private async afterFailure(
    job: Job,
    err: unknown,
    ctx: { isLastAttempt: boolean; signal: AbortSignal; deadline: AbortSignal; endedElsewhere: AbortSignal },
  ): Promise<RunOutcome> {
    const { jobs, logger } = this.deps;
    const { lifecycle } = this;
    // Which signal fired decides, not the error: an aborted call throws whatever its library throws.
    if (ctx.endedElsewhere.aborted) {
      logger.info({ jobId: job.id, reason: String(ctx.endedElsewhere.reason) }, 'job.ended_while_running');
      await lifecycle.discard(job.id);
      return DONE;
    }
    if (ctx.deadline.aborted) {
      await lifecycle.fail(job.id, DEADLINE_ERROR);
      return DONE;
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
        await lifecycle.recordAttempt(job, heldOutcome(decision), decision.error);
      } else {
        // nothing left this process: the run did not try, so it does not count
        await jobs.returnAttempt(job.id).catch(() => undefined);
      }
      return { kind: 'rate_limited', error: decision.error, pauseMs: decision.delayMs };
    }
    if (decision.action === 'rate_limited') {
      // nothing else changes on the row: a single insert, best effort (the lane pause matters more)
      await lifecycle.recordAttempt(job, 'rate_limited', decision.error);
      return { kind: 'rate_limited', error: decision.error };
    }
    if (decision.action === 'retry' && !ctx.isLastAttempt) {
      await lifecycle.step(job.id, { error: decision.error }, { attempt: { outcome: 'retried', error: decision.error } });
      return { kind: 'retry', error: decision.error };
    }
    await lifecycle.fail(job.id, decision.error);
    return DONE;
  }
}
