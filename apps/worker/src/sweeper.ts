import { findJobType, type JobFamily } from '@genqueue/core';
import type { Change, JobAttemptsRepository, JobsRepository, StaleCursor } from '@genqueue/db';
import type { JobEventBus, JobQueues } from '@genqueue/queue';
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
  batchSize: number;
  /**
   * Where this process's check of stale rows goes on at the next tick (a page of `batchSize` per
   * tick, from the oldest, starting over after the last): a backlog larger than a page that Redis
   * knows does not hide the rows behind it.
   */
  staleCursor: { after: StaleCursor | null };
  /** the webhook outbox step: pending deliveries that are due go (back) to the queue */
  webhooks?: WebhookSweepDeps;
};

export type SweepReport = { expired: number; timedOut: number; requeued: number; webhooksQueued?: number };

/**
 * One maintenance tick. Postgres is the truth: jobs past their clocks are ended, and jobs Redis
 * no longer knows (lost enqueue, Redis restart) are enqueued again.
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
    if (family) await deps.queues.removeIfIdle(family, row.id);
  }

  for (const row of await deps.jobs.findOverdueRunning(now, deps.batchSize)) {
    const message = row.reason === 'deadline' ? 'The job passed its deadline' : 'No progress from the gateway within the inactivity timeout';
    const error = { code: 'upstream_timeout', message, retryable: false } as const;
    const change = await deps.jobs.transition(row.id, 'failed', { error }, ['running'], attemptLog(deps.attempts, 'failed', error));
    if (await publish(change)) report.timedOut += 1;
  }

  const stale = await deps.jobs.findStale(new Date(now.getTime() - deps.staleAfterMs), deps.batchSize, deps.staleCursor.after);
  const last = stale[stale.length - 1];
  deps.staleCursor.after = stale.length < deps.batchSize || !last ? null : { id: last.id, updatedAt: last.updatedAt };
  for (const row of stale) {
    const family: JobFamily | undefined = findJobType(row.type)?.family;
    if (!family || (await deps.queues.isLive(family, row.id))) continue;
    await deps.queues.enqueue(family, row.id, {
      priority: row.priority,
      maxAttempts: deps.retry.maxAttempts,
      backoffDelayMs: deps.retry.baseDelayMs,
    });
    report.requeued += 1;
    deps.logger.info({ jobId: row.id, status: row.status }, 'sweeper.requeued');
  }
  if (deps.webhooks) report.webhooksQueued = await sweepWebhookDeliveries(deps.webhooks, now);
  return report;
}
