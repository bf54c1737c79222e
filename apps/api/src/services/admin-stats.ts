import type { LaneLimits, LaneName } from '@genqueue/config';
import { JOB_FAMILIES, type JobFamily } from '@genqueue/core';
import type { FinishedBucket, JobStatsQueries } from '@genqueue/db';
import { assertRedisReady, queueNameFor, type GatewayLaneGovernor, type JobQueues, type LaneActivity, type LaneStatus } from '@genqueue/queue';
import { GATEWAY_LANES } from '@genqueue/upstream';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';

const MINUTE_MS = 60_000;
/** A queue with waiting work and no job taken for this long gets `idle_warning`. */
const IDLE_WARNING_MS = 60_000;

type Series = Array<{ start: string; finished: number; failed: number }>;

const SeriesSchema = z.array(z.object({ start: z.string(), finished: z.int(), failed: z.int() }));
const WindowSchema = z.object({
  finished: z.int(),
  by_status: z.record(z.string(), z.int()),
  throughput_per_min: z.number(),
  failure_rate: z.number(),
});

/** What `AdminStats.build` answers (`GET /admin/v1/stats`); `queues` and `gateway_lanes` are null while Redis is down. */
export const AdminStatsSchema = z.object({
  object: z.literal('stats'),
  jobs_by_status: z.record(z.string(), z.int()),
  jobs_by_type: z.record(z.string(), z.int()),
  jobs_by_type_and_status: z.record(z.string(), z.record(z.string(), z.int())),
  queues: z
    .record(
      z.enum(JOB_FAMILIES),
      z.object({
        waiting: z.int(),
        active: z.int(),
        delayed: z.int(),
        failed: z.int(),
        paused: z.boolean(),
        rate_limited_ms: z.int(),
        last_active_at: z.string().nullable(),
        idle_warning: z.boolean(),
        held_reason: z.string().nullable().optional(),
        held_until: z.string().nullable().optional(),
      }),
    )
    .nullable(),
  gateway_lanes: z
    .array(
      z.object({
        lane: z.string(),
        rate_per_minute: z.number(),
        max_per_minute: z.number(),
        accepted_last_minute: z.int(),
        breaker: z.enum(['closed', 'open', 'half_open']),
        held_until: z.string().nullable(),
        reason: z.string().nullable(),
        consecutive_failures: z.int(),
      }),
    )
    .nullable(),
  last_hour: WindowSchema,
  last_day: WindowSchema,
  series: z.object({ hour: SeriesSchema, day: SeriesSchema }),
  webhooks: z.object({ pending: z.int(), failing: z.int(), succeeded_24h: z.int(), failed_24h: z.int() }),
  generated_at: z.string(),
});

/** The gateway lanes a job family's requests go through. */
const GATEWAY_LANES_OF: Record<JobFamily, readonly string[]> = {
  image: ['image'],
  video: ['video_submit', 'video_poll'],
  mj: ['mj_submit', 'mj_poll'],
  audio: ['audio'],
  embedding: ['embedding'],
};

function laneView(status: LaneStatus): Record<string, unknown> {
  return {
    lane: status.lane,
    rate_per_minute: status.ratePerMinute,
    max_per_minute: status.maxPerMinute,
    accepted_last_minute: status.acceptedLastMinute,
    breaker: status.breaker,
    held_until: status.heldUntil?.toISOString() ?? null,
    reason: status.reason,
    consecutive_failures: status.consecutiveFailures,
  };
}

/**
 * Exactly `count` buckets of `bucketMs` from `since`, oldest first, whatever the query's clock
 * made of the last partial bucket (its "now" is a little later than ours).
 */
export function fixedSeries(rows: FinishedBucket[], since: number, bucketMs: number, count: number): Series {
  const byStart = new Map(rows.map((row) => [row.start.getTime(), row]));
  return Array.from({ length: count }, (_, n) => {
    const start = since + n * bucketMs;
    const row = byStart.get(start);
    return { start: new Date(start).toISOString(), finished: row?.finished ?? 0, failed: row?.failed ?? 0 };
  });
}

function window(rows: Array<{ status: string; count: number }>, minutes: number): Record<string, unknown> {
  const finished = rows.reduce((sum, row) => sum + row.count, 0);
  const failed = rows.find((row) => row.status === 'failed')?.count ?? 0;
  return {
    finished,
    by_status: Object.fromEntries(rows.map((row) => [row.status, row.count])),
    throughput_per_min: Number((finished / minutes).toFixed(2)),
    failure_rate: finished === 0 ? 0 : Number((failed / finished).toFixed(4)),
  };
}

/** `GET /admin/v1/stats` (admin-api.md, Overview): counts from job_counts, queue figures from BullMQ. */
export class AdminStats {
  constructor(
    private readonly stats: JobStatsQueries,
    private readonly queues: JobQueues,
    private readonly laneActivity: LaneActivity,
    /** the connection the queues use: while it is down the queue figures are null, not a wait */
    private readonly redis: Redis,
    private readonly logger: Logger,
    /** the workers' gateway lanes (rate learnt from 429s, breaker), read from Redis */
    private readonly gatewayLanes: Pick<GatewayLaneGovernor, 'status'>,
    private readonly laneLimits: Record<LaneName, LaneLimits>,
  ) {}

  async build(now = Date.now()): Promise<Record<string, unknown>> {
    // fold the pending deltas first, so the read below sums few rows
    await this.stats.compactCounts();
    const hourSince = Math.floor(now / MINUTE_MS) * MINUTE_MS - 59 * MINUTE_MS;
    const dayBucketMs = 15 * MINUTE_MS;
    const daySince = Math.floor(now / dayBucketMs) * dayBucketMs - 95 * dayBucketMs;
    const [counts, lastHour, lastDay, hourSeries, daySeries, webhooks, queues] = await Promise.all([
      this.stats.counts(),
      this.stats.finishedSince(new Date(now - 60 * MINUTE_MS)),
      this.stats.finishedSince(new Date(now - 1440 * MINUTE_MS)),
      this.stats.finishedSeries(new Date(hourSince), 60),
      this.stats.finishedSeries(new Date(daySince), dayBucketMs / 1000),
      this.stats.webhookCounts(),
      this.queueFigures(now).catch((err: unknown) => {
        this.logger.debug({ err }, 'stats.queues_unavailable');
        return null;
      }),
    ]);
    const gatewayLanes = queues === null ? null : await this.gatewayLaneFigures(now).catch(() => null);
    const byStatus: Record<string, number> = {};
    const byType: Record<string, number> = {};
    const byTypeAndStatus: Record<string, Record<string, number>> = {};
    for (const row of counts) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
      byType[row.type] = (byType[row.type] ?? 0) + row.count;
      const statuses = (byTypeAndStatus[row.type] ??= {});
      statuses[row.status] = (statuses[row.status] ?? 0) + row.count;
    }
    return {
      object: 'stats',
      jobs_by_status: byStatus,
      jobs_by_type: byType,
      jobs_by_type_and_status: byTypeAndStatus,
      queues: queues && gatewayLanes ? withHolds(queues, gatewayLanes) : queues,
      gateway_lanes: gatewayLanes,
      last_hour: window(lastHour, 60),
      last_day: window(lastDay, 1440),
      series: {
        hour: fixedSeries(hourSeries, hourSince, MINUTE_MS, 60),
        day: fixedSeries(daySeries, daySince, dayBucketMs, 96),
      },
      webhooks: {
        pending: webhooks.pending,
        failing: webhooks.failing,
        succeeded_24h: webhooks.succeeded24h,
        failed_24h: webhooks.failed24h,
      },
      generated_at: new Date(now).toISOString(),
    };
  }

  /** Per job family: BullMQ's counts, whether the lane is paused or rate limited, and when a worker last took a job. */
  private async queueFigures(now: number): Promise<Record<string, Record<string, unknown>>> {
    assertRedisReady(this.redis);
    const activity = await this.laneActivity.read();
    const entries = await Promise.all(
      JOB_FAMILIES.map(async (family) => {
        const queue = this.queues.queue(family);
        const [counts, paused, rateLimitTtl] = await Promise.all([
          queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
          queue.isPaused(),
          // with the lane's maximum, BullMQ answers a TTL only while the lane is actually held
          queue.getRateLimitTtl(this.laneLimits[family].requestsPerMinute),
        ]);
        const waiting = (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0);
        const lastActiveMs = activity[queueNameFor(family)] ?? activity[family] ?? null;
        return [
          family,
          {
            waiting,
            active: counts['active'] ?? 0,
            delayed: counts['delayed'] ?? 0,
            failed: counts['failed'] ?? 0,
            paused,
            // BullMQ answers -2 (no key) or -1 (no expiry) when the lane is not limited
            rate_limited_ms: Math.max(0, rateLimitTtl),
            last_active_at: lastActiveMs === null ? null : new Date(lastActiveMs).toISOString(),
            idle_warning: waiting > 0 && (lastActiveMs === null || now - lastActiveMs > IDLE_WARNING_MS),
          },
        ] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  private async gatewayLaneFigures(now: number): Promise<Array<Record<string, unknown>>> {
    return (await Promise.all(GATEWAY_LANES.map((lane) => this.gatewayLanes.status(lane, now)))).map(laneView);
  }
}

/** Each queue row names what holds its gateway lanes: a 429, an outage, a refused key. */
function withHolds(queues: Record<string, Record<string, unknown>>, lanes: Array<Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const byLane = new Map(lanes.map((lane) => [String(lane['lane']), lane]));
  return Object.fromEntries(
    Object.entries(queues).map(([family, row]) => {
      const held = (GATEWAY_LANES_OF[family as JobFamily] ?? []).map((lane) => byLane.get(lane)).find((lane) => lane?.['reason']);
      return [family, { ...row, held_reason: held?.['reason'] ?? null, held_until: held?.['held_until'] ?? null }];
    }),
  );
}
