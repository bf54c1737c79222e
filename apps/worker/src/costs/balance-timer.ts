import type { Logger } from 'pino';
import { PeriodicTimer } from '../periodic-timer';
import { HOLD_SHARE, type TickLease } from '../sweep-timer';

export type BalanceTimerDeps = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval */
  lease: TickLease;
  /** one tick's work: a balance snapshot, then the ledger's catch-up */
  tick: () => Promise<void>;
  logger: Logger;
};

/** Longer than any sane tick: past it Postgres ends the lease's transaction. */
const MAX_TICK_MS = 2 * 60_000;

/**
 * The gateway balance timer: every worker process runs one, the Postgres lease keeps it to one
 * snapshot per interval in all (the gateway's token route allows 20 reads per 20 minutes per IP).
 */
export class BalanceTimer {
  private readonly timer: PeriodicTimer;

  constructor(private readonly deps: BalanceTimerDeps) {
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

  close(): Promise<void> {
    return this.timer.close();
  }

  private async tick(hold: AbortSignal): Promise<void> {
    try {
      await this.deps.lease.run({ holdMs: Math.round(this.deps.intervalMs * HOLD_SHARE), maxWorkMs: MAX_TICK_MS, signal: hold }, this.deps.tick);
    } catch (err) {
      // Postgres down: the next tick tries again
      this.deps.logger.warn({ err }, 'gateway.balance_tick_failed');
    }
  }
}
