import type { LeaseRun } from '@genqueue/db';
import type { Logger } from 'pino';
import { PeriodicTimer } from './periodic-timer';

/** The lease the timed works take (AdvisoryLease: Postgres, not Redis). */
export type TickLease = {
  run<T>(options: { holdMs: number; maxWorkMs: number; signal?: AbortSignal }, work: () => Promise<T>): Promise<LeaseRun<T>>;
};

/** The lease outlives the tick by most of the interval: the other processes' ticks of this interval skip. */
export const HOLD_SHARE = 0.9;

export type LeasedTimerOptions<T> = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval */
  lease: TickLease;
  /** longer than any sane tick: past it Postgres ends the lease's transaction */
  maxTickMs: number;
  /** one tick's work, run under the lease */
  work: () => Promise<T>;
  /** what became of a tick this process ran (not called when another process had the interval) */
  onDone?: (value: T) => void;
  logger: Logger;
  /** the log line of a failed tick (Postgres down, Redis gone mid-tick): the next tick tries again */
  failureMessage: string;
};

/**
 * A timer every worker process runs, whose ticks the Postgres lease keeps to one per interval across
 * all of them: the work exists as long as any worker does, whatever Redis holds. A nudge ends the
 * lease's hold and ticks at once. The sweeper and the balance reader run on it.
 */
export class LeasedTimer<T> {
  private readonly timer: PeriodicTimer;

  constructor(private readonly options: LeasedTimerOptions<T>) {
    this.timer = new PeriodicTimer({
      intervalMs: options.intervalMs,
      firstTickWithinMs: Math.min(1_000, options.intervalMs / 4),
      keepAlive: true,
      tick: ({ hold }) => this.tick(hold),
    });
  }

  start(): void {
    this.timer.start();
  }

  /** Tick now rather than at the next interval. */
  nudge(): void {
    this.timer.nudge();
  }

  close(): Promise<void> {
    return this.timer.close();
  }

  private async tick(hold: AbortSignal): Promise<void> {
    const { intervalMs, maxTickMs, lease, work, logger } = this.options;
    try {
      const result = await lease.run({ holdMs: Math.round(intervalMs * HOLD_SHARE), maxWorkMs: maxTickMs, signal: hold }, work);
      if (result.ran) this.options.onDone?.(result.value);
    } catch (err) {
      logger.warn({ err }, this.options.failureMessage);
    }
  }
}
