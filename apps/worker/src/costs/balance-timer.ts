import type { Logger } from 'pino';
import { LeasedTimer, type TickLease } from '../leased-timer';

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
export class BalanceTimer extends LeasedTimer<void> {
  constructor(deps: BalanceTimerDeps) {
    super({ intervalMs: deps.intervalMs, lease: deps.lease, maxTickMs: MAX_TICK_MS, work: deps.tick, logger: deps.logger, failureMessage: 'gateway.balance_tick_failed' });
  }
}
