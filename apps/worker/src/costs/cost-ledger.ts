import type { Settings } from '@genqueue/config';
import { priceCatalogFrom, QUOTA_UNITS_PER_USD } from '@genqueue/core';
import { AdvisoryLease, CostsRepository, type PrismaClient } from '@genqueue/db';
import { WebhookDeliveryQueue, type JobEventBus } from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import { balanceAlertFanOut } from '@genqueue/webhooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BalanceReader } from './balance-reader';
import { BalanceTimer } from './balance-timer';
import { CostRecorder, type TaskCosts } from './cost-recorder';

/** The balance timer's lease (an advisory lock named so in Postgres). */
export const BALANCE_LEASE_NAME = 'genqueue.gateway_balance';
/** How far back the timer's catch-up looks for finished jobs without a ledger entry. */
const CATCH_UP_LOOKBACK_MS = 24 * 3_600_000;
/** Jobs finished this recently (at most an interval) are left to the observer of the process that finished them. */
const CATCH_UP_SETTLE_MS = 30_000;
const CATCH_UP_BATCH = 200;

export type CostLedgerInput = {
  settings: Settings;
  prisma: PrismaClient;
  events: JobEventBus;
  upstream: UpstreamClient;
  /** a Redis connection for queueing gateway.balance_low deliveries */
  producer: Redis;
  /** the task runner, told where task kinds record their charges and refunds */
  tasks?: { setCosts(costs: TaskCosts): void };
  logger: Logger;
};

export type CostLedger = { recorder: CostRecorder; reader: BalanceReader; close(): Promise<void> };

/** The worker's cost ledger: the recorder on the event bus, the task hooks, and the balance timer. */
export function startCostLedger(input: CostLedgerInput): CostLedger {
  const { settings, prisma, logger } = input;
  const costs = new CostsRepository(prisma);
  const deliveries = new WebhookDeliveryQueue(input.producer, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'));
  const reader = new BalanceReader({
    costs,
    account: input.upstream.account,
    // the fan-out (who gets gateway.balance_low, and its body) is @genqueue/webhooks' to decide
    alert:
      settings.GATEWAY_BALANCE_ALERT_USD === undefined
        ? null
        : { thresholdUnits: Math.round(settings.GATEWAY_BALANCE_ALERT_USD * QUOTA_UNITS_PER_USD), fanOut: balanceAlertFanOut },
    minGapMs: settings.GATEWAY_BALANCE_MIN_GAP_MS,
    enqueueDeliveries: (ids) => deliveries.enqueueNew(ids),
    logger,
  });
  const recorder = new CostRecorder({ prisma, costs, balance: reader, catalog: priceCatalogFrom(settings.GATEWAY_PRICES), logger });
  input.events.observe(recorder.observe);
  input.tasks?.setCosts(recorder);
  const timer = new BalanceTimer({
    intervalMs: settings.GATEWAY_BALANCE_INTERVAL_MS,
    lease: new AdvisoryLease(prisma, BALANCE_LEASE_NAME),
    tick: async () => {
      await reader.read('timer');
      const now = Date.now();
      const settleMs = Math.min(CATCH_UP_SETTLE_MS, settings.GATEWAY_BALANCE_INTERVAL_MS);
      const missing = await costs.unrecordedFinished(new Date(now - CATCH_UP_LOOKBACK_MS), new Date(now - settleMs), CATCH_UP_BATCH);
      for (const jobId of missing) await recorder.recordFinished(jobId);
      if (missing.length > 0) logger.info({ jobs: missing.length }, 'costs.caught_up');
    },
    logger,
  });
  timer.start();
  return {
    recorder,
    reader,
    async close() {
      await timer.close();
      await recorder.close();
      await deliveries.queue.close().catch(() => undefined);
    },
  };
}
