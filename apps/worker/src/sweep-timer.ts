import type { LeaseRun } from '@genqueue/db';
import type { Logger } from 'pino';
import { PeriodicTimer } from './periodic-timer';
import type { SweepReport } from './sweeper';

/** The lease the timed works take (AdvisoryLease: Postgres, not Redis). */
export type TickLease = {
  run<T>(options: { holdMs: number; maxWorkMs: number; signal?: AbortSignal }, work: () => Promise<T>): Promise<LeaseRun<T>>;
};

export type SweepTimerDeps = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval */
  lease: TickLease;
  sweep: () => Promise<SweepReport>;
  logger: Logger;
};

/** Longer than any sane tick: past it Postgres ends the lease's transaction (the sweep itself still finishes). */
const MAX_TICK_MS = 5 * 60_000;
/** The lease outlives the tick by most of the interval: the other processes' ticks of this interval skip. */
export const HOLD_SHARE = 0.9;

/**
 * Every worker process runs the sweeper on a timer of its own, so a sweeper exists as long as any
 * worker does, whatever Redis holds (a schedule kept in Redis vanished with a flushed or restarted
 * Redis). Ticks are deduplicated across processes by the lease: one sweep per interval in all; a
 * nudge (Redis came back) ends the lease's hold and sweeps at once.
 */
export class SweepTimer {
  private readonly timer: PeriodicTimer;

  constructor(private readonly deps: SweepTimerDeps) {
    this.timer = new PeriodicTimer({
      intervalMs: deps.intervalMs,
      firstTickWithinMs: Math.min(1_000, deps.intervalMs / 4),
      keepAlive: true,
      tick: ({ hold }) => this.tick(hold),
    });
  }

  start(): void {
    this.timer.start();
  }

  /** Sweep now rather than at the next interval: Redis came back (maybe empty). */
  nudge(): void {
    this.timer.nudge();
  }

  close(): Promise<void> {
    return this.timer.close();
  }

  private async tick(hold: AbortSignal): Promise<void> {
    const { intervalMs, logger } = this.deps;
    try {
      const result = await this.deps.lease.run({ holdMs: Math.round(intervalMs * HOLD_SHARE), maxWorkMs: MAX_TICK_MS, signal: hold }, this.deps.sweep);
      if (!result.ran) return;
      const report = result.value;
      const isNews = report.expired + report.timedOut + report.requeued + (report.webhooksQueued ?? 0) > 0 || report.redisWasEmptied || report.redisDown;
      if (isNews) logger.info(report, 'sweeper.tick');
    } catch (err) {
      // Postgres down, or Redis gone mid-tick: the next tick tries again
      logger.warn({ err }, 'sweeper.tick_failed');
    }
  }
}
