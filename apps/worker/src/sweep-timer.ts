import type { Logger } from 'pino';
import { LeasedTimer, type TickLease } from './leased-timer';
import type { SweepReport } from './sweeper';

export type SweepTimerDeps = {
  intervalMs: number;
  /** keeps the ticks of all worker processes to one per interval */
  lease: TickLease;
  sweep: () => Promise<SweepReport>;
  logger: Logger;
};

/** Longer than any sane tick: past it Postgres ends the lease's transaction (the sweep itself still finishes). */
const MAX_TICK_MS = 5 * 60_000;

/**
 * Every worker process runs the sweeper on a timer of its own, so a sweeper exists as long as any
 * worker does, whatever Redis holds (a schedule kept in Redis vanished with a flushed or restarted
 * Redis). Ticks are deduplicated across processes by the lease: one sweep per interval in all; a
 * nudge (Redis came back, maybe empty) ends the lease's hold and sweeps at once.
 */
export class SweepTimer extends LeasedTimer<SweepReport> {
  constructor(deps: SweepTimerDeps) {
    super({
      intervalMs: deps.intervalMs,
      lease: deps.lease,
      maxTickMs: MAX_TICK_MS,
      work: deps.sweep,
      onDone: (report) => {
        const isNews = report.expired + report.timedOut + report.requeued + (report.webhooksQueued ?? 0) > 0 || report.redisWasEmptied || report.redisDown;
        if (isNews) deps.logger.info(report, 'sweeper.tick');
      },
      logger: deps.logger,
      failureMessage: 'sweeper.tick_failed',
    });
  }
}
