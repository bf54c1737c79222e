import { QUOTA_UNITS_PER_USD } from '@genqueue/core';
import type { BalanceAlert, CostsRepository, GatewayBalanceSnapshot, NewBalanceSnapshot } from '@genqueue/db';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';

export type BalanceReaderDeps = {
  costs: CostsRepository;
  account: Pick<UpstreamClient['account'], 'getBalance'>;
  /** GATEWAY_BALANCE_ALERT_USD in quota units and who the alert goes to; null: no alert */
  alert: BalanceAlert | null;
  /** GATEWAY_BALANCE_MIN_GAP_MS: reads for estimates closer than this reuse the last one */
  minGapMs: number;
  /** queues the gateway.balance_low deliveries a crossing wrote (best effort: the sweeper queues the rest) */
  enqueueDeliveries: (deliveryIds: readonly string[]) => Promise<void>;
  logger: Logger;
};

/**
 * Reads the gateway's balance (`/api/usage/token/`, else the billing routes) and keeps it as a
 * snapshot row. One read at a time per process; reads asked for within the minimum gap of the last
 * one get nothing (the caller settles later), since the token route allows 20 reads per 20 minutes.
 */
export class BalanceReader {
  private inFlight: Promise<GatewayBalanceSnapshot | null> | null = null;
  private lastReadMs = 0;

  constructor(private readonly deps: BalanceReaderDeps) {}

  /** ms until a read for an estimate may go out (0: now). */
  waitMs(now = Date.now()): number {
    return Math.max(0, this.lastReadMs + this.deps.minGapMs - now);
  }

  /** A read for an estimate: joins one in flight; null within the minimum gap of the last read. */
  async readForEstimate(reason: 'job_start' | 'job_finish', jobId: string): Promise<GatewayBalanceSnapshot | null> {
    if (this.inFlight) return this.inFlight;
    if (this.waitMs() > 0) return null;
    return this.read(reason, jobId);
  }

  /** A read now (the timer), joined with one in flight. */
  read(reason: NewBalanceSnapshot['reason'], jobId?: string): Promise<GatewayBalanceSnapshot | null> {
    if (this.inFlight) return this.inFlight;
    this.lastReadMs = Date.now();
    this.inFlight = this.readNow(reason, jobId).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async readNow(reason: NewBalanceSnapshot['reason'], jobId?: string): Promise<GatewayBalanceSnapshot | null> {
    const { logger } = this.deps;
    // the balance is as of the request, not the answer: a charge made while it was in flight may be missing
    const requestedAt = new Date();
    let balance;
    try {
      balance = await this.deps.account.getBalance();
    } catch (err) {
      logger.warn({ err, reason }, 'gateway.balance_read_failed');
      return null;
    }
    const remainingUsd = balance.usd?.remaining ?? null;
    const availableUnits = balance.totalAvailable ?? (remainingUsd === null ? null : Math.round(remainingUsd * QUOTA_UNITS_PER_USD));
    const written = await this.deps.costs.insertSnapshot(
      {
        takenAt: requestedAt,
        availableUnits,
        usedUnits: balance.totalUsed ?? (balance.usd ? Math.round(balance.usd.used * QUOTA_UNITS_PER_USD) : null),
        grantedUnits: balance.totalGranted ?? (balance.usd ? Math.round(balance.usd.hardLimit * QUOTA_UNITS_PER_USD) : null),
        availableUsd: remainingUsd ?? (availableUnits === null ? null : availableUnits / QUOTA_UNITS_PER_USD),
        isUnlimited: balance.unlimited ?? false,
        source: balance.source,
        reason,
        jobId: jobId ?? null,
      },
      this.deps.alert,
    );
    if (written.crossedBelow) {
      logger.warn({ availableUnits, alertUnits: this.deps.alert?.thresholdUnits, endpoints: written.deliveryIds.length }, 'gateway.balance_low');
      await this.deps.enqueueDeliveries(written.deliveryIds).catch((err: unknown) => logger.warn({ err }, 'gateway.balance_low_enqueue_failed'));
    }
    return written.snapshot;
  }
}
