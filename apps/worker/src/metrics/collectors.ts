import { Counter, Gauge } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_TYPES } from '@genqueue/core';
import type { OperationalFigures } from '@genqueue/db';
import type { GatewayLaneGovernor, LaneStatus } from '@genqueue/queue';
import { GATEWAY_LANES } from '@genqueue/upstream';
import { jobTypeLabel, type WorkerMetrics } from './worker-metrics';

/** A BullMQ queue to report, and the most jobs per minute its limiter allows (for its rate-limit check). */
export type ReportedQueue = { name: string; queue: Queue; maxPerMinute?: number };

export type CollectorSources = {
  queues: readonly ReportedQueue[];
  /** the connection the queues and the governor use: while it is not ready, Redis figures are skipped (no wait) */
  redis: Redis;
  governor: Pick<GatewayLaneGovernor, 'status'>;
  figures: () => Promise<OperationalFigures>;
  /** the gateway balance at the last snapshot any worker took (null before the first) */
  balance: () => Promise<{ availableUsd: number | null; isBelowAlert: boolean; takenAt: Date } | null>;
};

type QueueFigures = { name: string; counts: Record<string, number>; isPaused: boolean; rateLimitTtlMs: number };
type Balance = Awaited<ReturnType<CollectorSources['balance']>>;
type Snapshot = { queues: QueueFigures[] | null; lanes: LaneStatus[] | null; figures: OperationalFigures | null; balance: Balance };

/** Every type gets a sample (0 when none), so an alert on a series never meets an absent one. */
const TASK_TYPES = JOB_TYPES.filter((spec) => spec.isGatewayTask).map((spec) => spec.type);
const ALL_TYPES = JOB_TYPES.map((spec) => spec.type);
const HOLD_REASONS = ['rate_limited', 'outage', 'refused'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Gauges of state every worker shares (BullMQ queues, gateway lanes, Postgres figures), read at
 * scrape time. One read serves all gauges of a scrape and is reused for `cacheMs`, so several
 * scrapers cost Redis and Postgres no more than one; a source that fails or is slower than
 * `timeoutMs` leaves its gauges empty for that scrape (and counts a collect failure).
 */
export function registerCollectors(metrics: WorkerMetrics, sources: CollectorSources, options: { cacheMs?: number; timeoutMs?: number } = {}): void {
  const cacheMs = options.cacheMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const registers = [metrics.registry];
  const failures = new Counter({
    name: 'genqueue_metrics_collect_failures_total',
    help: 'Scrape-time reads that failed or timed out, by source (redis, postgres); their gauges are empty for that scrape',
    labelNames: ['source'],
    registers,
  });
  let cached: { atMs: number; snapshot: Promise<Snapshot> } | null = null;

  const guarded = <T>(source: 'redis' | 'postgres', read: () => Promise<T>): Promise<T | null> => {
    if (source === 'redis' && sources.redis.status !== 'ready') {
      failures.inc({ source });
      return Promise.resolve(null);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
      timer.unref();
    });
    return Promise.race([read(), timeout])
      .catch(() => null)
      .then((value) => {
        clearTimeout(timer);
        if (value === null) failures.inc({ source });
        return value;
      });
  };

  const read = async (): Promise<Snapshot> => {
    const [queues, lanes, figures, balance] = await Promise.all([
      guarded('redis', () => Promise.all(sources.queues.map(readQueue))),
      guarded('redis', () => Promise.all(GATEWAY_LANES.map((lane) => sources.governor.status(lane)))),
      guarded('postgres', sources.figures),
      sources.balance().catch(() => null),
    ]);
    return { queues, lanes, figures, balance };
  };
  const snapshot = (): Promise<Snapshot> => {
    const nowMs = Date.now();
    if (!cached || nowMs - cached.atMs >= cacheMs) cached = { atMs: nowMs, snapshot: read() };
    return cached.snapshot;
  };

  gauge('genqueue_queue_jobs', 'BullMQ jobs per queue and state (waiting, active, delayed, failed)', ['queue', 'state'], async (g) => {
    for (const q of (await snapshot()).queues ?? []) {
      const c = q.counts;
      const byState: Record<(typeof QUEUE_STATES)[number], number> = {
        waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
        active: c['active'] ?? 0,
        delayed: c['delayed'] ?? 0,
        failed: c['failed'] ?? 0,
      };
      for (const state of QUEUE_STATES) g.set({ queue: q.name, state }, byState[state]);
    }
  });
  gauge('genqueue_queue_paused', 'A queue that takes no jobs now, by reason: admin (paused from the dashboard), rate_limited (a gateway 429 paused it)', ['queue', 'reason'], async (g) => {
    for (const q of (await snapshot()).queues ?? []) {
      g.set({ queue: q.name, reason: 'admin' }, q.isPaused ? 1 : 0);
      g.set({ queue: q.name, reason: 'rate_limited' }, q.rateLimitTtlMs > 0 ? 1 : 0);
    }
  });
  gauge('genqueue_gateway_lane_held', 'A gateway lane holding its requests back now, by reason (rate_limited: a 429; outage: 5xx or timeouts in a row; refused: key or quota refused)', ['lane', 'reason'], async (g) => {
    for (const lane of (await snapshot()).lanes ?? []) {
      const isHeld = lane.heldUntil !== null;
      for (const reason of HOLD_REASONS) g.set({ lane: lane.lane, reason }, isHeld && lane.reason === reason ? 1 : 0);
    }
  });
  gauge('genqueue_gateway_lane_rate_per_minute', 'Requests per minute a gateway lane may send now (learnt from 429s, at most its setting)', ['lane'], async (g) => {
    for (const lane of (await snapshot()).lanes ?? []) g.set({ lane: lane.lane }, lane.ratePerMinute);
  });
  gauge('genqueue_upstream_parked_tasks', 'Gateway tasks (video, mj) submitted and waiting between status polls, by job type', ['type'], async (g) => {
    const figures = (await snapshot()).figures;
    if (!figures) return;
    for (const type of TASK_TYPES) g.set({ type }, 0);
    for (const row of figures.parkedTasks) g.inc({ type: jobTypeLabel(row.type) }, row.count);
  });
  gauge('genqueue_jobs_waiting_on_project_limit', 'Queued jobs of projects that run their max_running_jobs now, by type', ['type'], async (g) => {
    const figures = (await snapshot()).figures;
    if (!figures) return;
    for (const type of ALL_TYPES) g.set({ type }, 0);
    for (const row of figures.waitingOnProjectLimit) g.inc({ type: jobTypeLabel(row.type) }, row.count);
  });
  gauge('genqueue_webhook_deliveries_pending', 'Webhook deliveries not yet delivered nor given up', [], async (g) => {
    const figures = (await snapshot()).figures;
    if (figures) g.set(figures.webhookDeliveriesPending);
  });
  gauge('genqueue_webhook_endpoints', 'Webhook endpoints by state: failing (every delivery failing since some time), disabled', ['state'], async (g) => {
    const figures = (await snapshot()).figures;
    if (!figures) return;
    g.set({ state: 'failing' }, figures.webhookEndpointsFailing);
    g.set({ state: 'disabled' }, figures.webhookEndpointsDisabled);
  });

  gauge('genqueue_gateway_balance_usd', "The gateway token's balance in US$ at the last snapshot (every GATEWAY_BALANCE_INTERVAL_MS)", [], async (g) => {
    const balance = (await snapshot()).balance;
    if (balance?.availableUsd != null) g.set(balance.availableUsd);
  });
  gauge('genqueue_gateway_balance_low', 'Whether the last balance snapshot was under GATEWAY_BALANCE_ALERT_USD (1) or not (0)', [], async (g) => {
    const balance = (await snapshot()).balance;
    if (balance) g.set(balance.isBelowAlert ? 1 : 0);
  });
  gauge('genqueue_gateway_balance_age_seconds', 'Seconds since the last balance snapshot (a stale balance means no worker could read it)', [], async (g) => {
    const balance = (await snapshot()).balance;
    if (balance) g.set((Date.now() - balance.takenAt.getTime()) / 1000);
  });

  function gauge(name: string, help: string, labelNames: string[], fill: (g: Gauge<string>) => Promise<void>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      // every scrape starts empty: a source that failed shows no samples rather than stale ones
      async collect() {
        this.reset();
        await fill(this);
      },
    });
  }
}

async function readQueue(q: ReportedQueue): Promise<QueueFigures> {
  const [counts, isPaused, rateLimitTtlMs] = await Promise.all([
    q.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
    q.queue.isPaused(),
    q.queue.getRateLimitTtl(q.maxPerMinute),
  ]);
  return { name: q.name, counts, isPaused, rateLimitTtlMs };
}
