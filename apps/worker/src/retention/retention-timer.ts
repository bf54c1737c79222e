import type { Settings } from '@genqueue/config';
import { AdvisoryLease, DEFAULT_RETENTION_DAYS, RetentionRepository, type PrismaClient } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';
import { PeriodicTimer } from '../periodic-timer';
import type { TickLease } from '../leased-timer';
import { prune, type PrunerDeps, type PruneReport } from './pruner';

/** The pruner's lease (an advisory lock named so in Postgres) and its last run (a system_settings row). */
export const RETENTION_LEASE_NAME = 'genqueue.retention';
const LAST_RUN_SETTING = 'retention_last_run_at';
/** One run's work at most; the next run resumes where it stopped. */
const MAX_RUN_MS = 10 * 60_000;

export type RetentionTimerDeps = {
  intervalMs: number;
  lease: TickLease;
  /** true when this interval's run is ours to do (none ran in the last ~interval) */
  claim: () => Promise<boolean>;
  prune: (signal: AbortSignal) => Promise<PruneReport>;
  logger: Logger;
};

/**
 * Runs the retention pruner in every worker process on a timer, as the sweeper does; the Postgres
 * lease keeps one run at a time, and the recorded start of the last run keeps it to one per interval
 * in all. The lease is held only while a run works (a prune may take minutes; holding a transaction
 * open for the whole interval would pin a connection for an hour).
 */
export class RetentionTimer {
  private readonly timer: PeriodicTimer;
  private readonly stopped = new AbortController();

  constructor(private readonly deps: RetentionTimerDeps) {
    this.timer = new PeriodicTimer({
      intervalMs: deps.intervalMs,
      firstTickWithinMs: Math.min(5_000, deps.intervalMs / 4),
      tick: () => this.tick(),
    });
  }

  start(): void {
    this.timer.start();
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.timer.close();
  }

  /** One tick now (tests, and an operator's manual run); resolves with the report, or null when another process had it. */
  async runOnce(): Promise<PruneReport | null> {
    const result = await this.deps.lease.run({ holdMs: 0, maxWorkMs: MAX_RUN_MS + 60_000, signal: this.stopped.signal }, async () => {
      if (!(await this.deps.claim())) return null;
      return this.deps.prune(this.stopped.signal);
    });
    return result.ran ? result.value : null;
  }

  private async tick(): Promise<void> {
    try {
      const report = await this.runOnce();
      if (report && report.jobs + report.artifacts + report.chunks > 0) this.deps.logger.info(report, 'retention.pruned');
    } catch (err) {
      this.deps.logger.warn({ err }, 'retention.run_failed');
    }
  }
}

/** The worker's retention timer from its settings (not started). */
export function createRetentionTimer(input: { settings: Settings; prisma: PrismaClient; storage: ObjectStorage; logger: Logger }): RetentionTimer {
  const { settings, logger } = input;
  const retention = new RetentionRepository(input.prisma);
  const pruner: Omit<PrunerDeps, 'signal'> = {
    retention,
    storage: input.storage,
    logger,
    batchSize: settings.RETENTION_BATCH_SIZE,
    pauseMs: settings.RETENTION_BATCH_PAUSE_MS,
    defaultRetentionDays: DEFAULT_RETENTION_DAYS,
    budgetMs: Math.min(MAX_RUN_MS, Math.round(settings.RETENTION_INTERVAL_MS * 0.8)),
  };
  return new RetentionTimer({
    intervalMs: settings.RETENTION_INTERVAL_MS,
    lease: new AdvisoryLease(input.prisma, RETENTION_LEASE_NAME),
    // a little under an interval, so timers that drift a few ms still run once per interval
    claim: () => retention.claimRun(LAST_RUN_SETTING, Math.round(settings.RETENTION_INTERVAL_MS * 0.9)),
    prune: (signal) => prune({ ...pruner, signal }),
    logger,
  });
}
