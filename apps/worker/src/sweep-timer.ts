import type { LeaseRun } from '@genqueue/db';
import type { Logger } from 'pino';
import type { SweepReport } from './sweeper';

export type SweepTimerDeps = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval (AdvisoryLease: Postgres, not Redis) */
  lease: { run<T>(options: { holdMs: number; maxWorkMs: number; signal?: AbortSignal }, work: () => Promise<T>): Promise<LeaseRun<T>> };
  sweep: () => Promise<SweepReport>;
  logger: Logger;
};

/** Longer than any sane tick: past it Postgres ends the lease's transaction (the sweep itself still finishes). */
const MAX_TICK_MS = 5 * 60_000;
/** The lease outlives the tick by most of the interval: the other processes' ticks of this interval skip. */
const HOLD_SHARE = 0.9;

/**
 * Every worker process runs the sweeper on a timer of its own, so a sweeper exists as long as any
 * worker does, whatever Redis holds (a schedule kept in Redis vanished with a flushed or restarted
 * Redis). Ticks are deduplicated across processes by the lease: one sweep per interval in all.
 */
export class SweepTimer {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private readonly stopped = new AbortController();
  /** ends the running tick's hold of the lease early (a nudge) */
  private hold: AbortController | null = null;
  private nudged = false;

  constructor(private readonly deps: SweepTimerDeps) {}

  start(): void {
    // a first tick soon, spread a little so processes started together do not all contend at once
    this.schedule(Math.round(Math.random() * Math.min(1_000, this.deps.intervalMs / 4)));
  }

  /**
   * Sweep now rather than at the next interval: Redis came back (maybe empty), so its rows should be
   * requeued at once. A tick holding the lease ends its hold, so this or another process can tick.
   */
  nudge(): void {
    if (this.stopped.signal.aborted) return;
    if (this.current) {
      this.nudged = true;
      this.hold?.abort();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async close(): Promise<void> {
    this.stopped.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopped.signal.aborted) return;
    this.timer = setTimeout(() => {
      const startedMs = Date.now();
      this.current = this.tick().finally(() => {
        this.current = null;
        const nudged = this.nudged;
        this.nudged = false;
        this.schedule(nudged ? 0 : Math.max(0, this.deps.intervalMs - (Date.now() - startedMs)));
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { intervalMs, logger } = this.deps;
    const hold = new AbortController();
    this.hold = hold;
    try {
      const result = await this.deps.lease.run(
        { holdMs: Math.round(intervalMs * HOLD_SHARE), maxWorkMs: MAX_TICK_MS, signal: AbortSignal.any([this.stopped.signal, hold.signal]) },
        this.deps.sweep,
      );
      if (!result.ran) return;
      const report = result.value;
      const isNews = report.expired + report.timedOut + report.requeued + (report.webhooksQueued ?? 0) > 0 || report.redisWasEmptied || report.redisDown;
      if (isNews) logger.info(report, 'sweeper.tick');
    } catch (err) {
      // Postgres down, or Redis gone mid-tick: the next tick tries again
      logger.warn({ err }, 'sweeper.tick_failed');
    } finally {
      this.hold = null;
    }
  }
}
