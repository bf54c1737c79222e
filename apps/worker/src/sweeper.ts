import { findJobType, type JobFamily } from '@genqueue/core';
import type { Change, JobAttemptsRepository, JobsRepository, StaleCursor } from '@genqueue/db';
import type { JobEventBus, JobQueues, RedisMemoryMarker } from '@genqueue/queue';
import type { Logger } from 'pino';
import { attemptLog } from './attempt-log';
import { sweepWebhookDeliveries, type WebhookSweepDeps } from './webhooks/webhook-sweep';

export type SweeperDeps = {
  jobs: JobsRepository;
  /** a timeout failure is the final failed run of its job: logged like the runner's */
  attempts: JobAttemptsRepository;
  queues: JobQueues;
  events: JobEventBus;
  logger: Logger;
  retry: { maxAttempts: number; baseDelayMs: number };
  /** rows untouched this long are checked against Redis */
  staleAfterMs: number;
  /**
   * Workers a job may take down with it. BullMQ hands a job whose worker vanished (its lock lapsed)
   * to another worker until this many stalls, then fails it; enqueuing it again would run a job that
   * kills its workers (out of memory, say) until its deadline, so it is failed as `worker_crashed`.
   */
  workerCrashLimit: number;
  batchSize: number;
  /**
   * Where this process's check of stale rows goes on at the next tick (pages of `batchSize`, from
   * the oldest, starting over after the last): a backlog larger than a page that Redis knows does
   * not hide the rows behind it.
   */
  staleCursor: { after: StaleCursor | null };
  /**
   * A tick goes on to the next page of stale rows while it has run less than this (0: one page per
   * tick), so a Redis that lost a large backlog gets it back within a tick or two.
   */
  staleBudgetMs?: number;
  /** tells the tick that Redis lost its data since the last one (webhook claims are then renewed at once) */
  redisMemory?: Pick<RedisMemoryMarker, 'wasLost'>;
  /** the webhook outbox step: pending deliveries that are due go (back) to the queue */
  webhooks?: WebhookSweepDeps;
};

export type SweepReport = {
  expired: number;
  timedOut: number;
  requeued: number;
  /** running jobs failed as `worker_crashed`: their worker died under them twice */
  crashed?: number;
  webhooksQueued?: number;
  /** Redis was down: the steps that need it waited for the next tick */
  redisDown?: boolean;
  /** Redis had lost its data since the last tick */
  redisWasEmptied?: boolean;
};

/**
 * One maintenance tick. Postgres is the truth: jobs past their clocks are ended (Postgres only, so
 * this goes on while Redis is down), and queued or running jobs Redis no longer holds (lost enqueue,
 * Redis flushed or restarted empty) are enqueued again; a running one resumes from its row (a task
 * with a saved upstream id polls it, see TaskRunner).
 */
export async function sweep(deps: SweeperDeps, now = new Date()): Promise<SweepReport> {
  const report: SweepReport = { expired: 0, timedOut: 0, requeued: 0 };
  const publish = async (change: Change | null): Promise<boolean> => {
    await deps.events.announce(change);
    return change !== null;
  };

  for (const row of await deps.jobs.findExpiredQueued(now, deps.batchSize)) {
    const change = await deps.jobs.transition(row.id, 'expired', {
      error: { code: 'expired', message: 'The job did not start within its queue TTL', retryable: false },
    });
    if (await publish(change)) report.expired += 1;
    const family = findJobType(row.type)?.family;
    if (family && deps.queues.isConnected()) await deps.queues.removeIfIdle(family, row.id);
  }

  for (const row of await deps.jobs.findOverdueRunning(now, deps.batchSize)) {
    const message = row.reason === 'deadline' ? 'The job passed its deadline' : 'No progress from the gateway within the inactivity timeout';
    const error = { code: 'upstream_timeout', message, retryable: false } as const;
    const change = await deps.jobs.transition(row.id, 'failed', { error }, ['running'], attemptLog(deps.attempts, 'failed', error));
    if (await publish(change)) report.timedOut += 1;
  }

  if (!deps.queues.isConnected()) {
    report.redisDown = true;
    return report;
  }
  report.redisWasEmptied = (await deps.redisMemory?.wasLost()) ?? false;
  const lost = await requeueLost(deps, now);
  report.requeued = lost.requeued;
  if (lost.crashed > 0) report.crashed = lost.crashed;
  if (deps.webhooks) report.webhooksQueued = await sweepWebhookDeliveries(deps.webhooks, now, { redisWasEmptied: report.redisWasEmptied });
  return report;
}

/** How many times the queue job of a running row stalled (its worker died or froze), when it was failed for it. */
async function stallsOf(deps: SweeperDeps, family: JobFamily, jobId: string): Promise<number> {
  const job = await deps.queues.queue(family).getJob(jobId);
  if (!job || !job.finishedOn || job.returnvalue !== null) return 0;
  return (await job.isFailed()) ? job.stalledCounter : 0;
}

const WORKER_CRASHED = {
  code: 'worker_crashed',
  message: 'The job stopped its worker twice (the process died while running it); it is not run again',
  retryable: false,
} as const;

/** Stale rows checked and re-added at once. */
const REQUEUE_CONCURRENCY = 32;

type StaleRow = Awaited<ReturnType<SweeperDeps['jobs']['findStale']>>[number];

/** One stale row: left alone while its queue job lives, failed after too many worker deaths, else enqueued again. */
async function requeueRow(deps: SweeperDeps, row: StaleRow): Promise<'live' | 'crashed' | 'requeued' | 'skipped'> {
  const family: JobFamily | undefined = findJobType(row.type)?.family;
  if (!family) return 'skipped';
  const stalls = row.status === 'running' ? await stallsOf(deps, family, row.id) : 0;
  if (await deps.queues.isLive(family, row.id)) return 'live';
  if (stalls >= deps.workerCrashLimit) {
    const change = await deps.jobs.transition(row.id, 'failed', { error: WORKER_CRASHED }, ['running'], attemptLog(deps.attempts, 'failed', WORKER_CRASHED));
    await deps.events.announce(change);
    deps.logger.warn({ jobId: row.id, type: row.type, stalls }, 'sweeper.worker_crashed');
    return change ? 'crashed' : 'skipped';
  }
  await deps.queues.enqueue(family, row.id, {
    projectId: row.projectId,
    priority: row.priority,
    maxAttempts: deps.retry.maxAttempts,
    backoffDelayMs: deps.retry.baseDelayMs,
  });
  deps.logger.info({ jobId: row.id, status: row.status }, 'sweeper.requeued');
  return 'requeued';
}

/**
 * Enqueues the stale queued/running rows whose queue job is gone (or finished while the row is not);
 * a running row whose queue job BullMQ failed for stalling too often is failed as `worker_crashed`.
 */
async function requeueLost(deps: SweeperDeps, now: Date): Promise<{ requeued: number; crashed: number }> {
  const stopAtMs = Date.now() + (deps.staleBudgetMs ?? 0);
  let requeued = 0;
  let crashed = 0;
  do {
    const stale = await deps.jobs.findStale(new Date(now.getTime() - deps.staleAfterMs), deps.batchSize, deps.staleCursor.after);
    const last = stale[stale.length - 1];
    deps.staleCursor.after = stale.length < deps.batchSize || !last ? null : { id: last.id, updatedAt: last.updatedAt };
    // rows are independent: a few dozen at a time, so a page after a Redis loss (hundreds of rows,
    // several Redis round trips each) is back in its queues in a fraction of a sweep interval
    for (let start = 0; start < stale.length; start += REQUEUE_CONCURRENCY) {
      const outcomes = await Promise.all(stale.slice(start, start + REQUEUE_CONCURRENCY).map((row) => requeueRow(deps, row)));
      requeued += outcomes.filter((o) => o === 'requeued').length;
      crashed += outcomes.filter((o) => o === 'crashed').length;
    }
  } while (deps.staleCursor.after !== null && Date.now() < stopAtMs);
  return { requeued, crashed };
}
