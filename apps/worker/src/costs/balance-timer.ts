import type { LeaseRun } from '@genqueue/db';
import type { Logger } from 'pino';

export type BalanceTimerDeps = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval (AdvisoryLease: Postgres, not Redis) */
  lease: { run<T>(options: { holdMs: number; maxWorkMs: number; signal?: AbortSignal }, work: () => Promise<T>): Promise<LeaseRun<T>> };
  /** one tick's work: a balance snapshot, then the ledger's catch-up */
  tick: () => Promise<void>;
  logger: Logger;
};

/** Longer than any sane tick: past it Postgres ends the lease's transaction. */
const MAX_TICK_MS = 2 * 60_000;
/** The lease outlives the tick by most of the interval: the other processes' ticks of this interval skip. */
const HOLD_SHARE = 0.9;

/**
 * The gateway balance timer: every worker process runs one, the Postgres lease keeps it to one
 * snapshot per interval in all (the gateway's token route allows 20 reads per 20 minutes per IP).
 */
export class BalanceTimer {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private readonly stopped = new AbortController();

  constructor(private readonly deps: BalanceTimerDeps) {}

  start(): void {
    this.schedule(Math.round(Math.random() * Math.min(1_000, this.deps.intervalMs / 4)));
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
        this.schedule(Math.max(0, this.deps.intervalMs - (Date.now() - startedMs)));
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { intervalMs, logger } = this.deps;
    try {
      await this.deps.lease.run({ holdMs: Math.round(intervalMs * HOLD_SHARE), maxWorkMs: MAX_TICK_MS, signal: this.stopped.signal }, this.deps.tick);
    } catch (err) {
      // Postgres down: the next tick tries again
      logger.warn({ err }, 'gateway.balance_tick_failed');
    }
  }
}
