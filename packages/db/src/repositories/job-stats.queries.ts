import type { PrismaClient } from '../generated/prisma/client';

export type JobCountRow = { projectId: string; type: string; status: string; count: number };
export type FinishedBucket = { start: Date; finished: number; failed: number };
export type WebhookCounts = { pending: number; failing: number; succeeded24h: number; failed24h: number };

const DAY_MS = 86_400_000;

/**
 * Reads of the admin overview. None of them scans `jobs`: counts come from the trigger-kept
 * `job_counts` (plus the deltas not yet folded in), time series from the (finished_at, status) index.
 */
export class JobStatsQueries {
  constructor(private readonly db: PrismaClient) {}

  /** Folds the pending deltas into job_counts; safe to run from several processes at once. */
  async compactCounts(): Promise<void> {
    await this.db.$queryRaw`SELECT genqueue_compact_job_counts()`;
  }

  /**
   * Jobs per project, type and status, exact: one statement reads the folded counts and the
   * pending deltas in one snapshot, and a compaction moves deltas in one transaction. Groups that
   * add up to zero are left out.
   */
  async counts(): Promise<JobCountRow[]> {
    const rows = await this.db.$queryRaw<Array<{ projectId: string; type: string; status: string; count: bigint }>>`
      SELECT project_id AS "projectId", type, status, sum(n)::bigint AS count
        FROM (SELECT project_id, type, status, count AS n FROM job_counts
              UNION ALL
              SELECT project_id, type, status, delta::bigint FROM job_count_deltas) AS parts
       GROUP BY project_id, type, status
      HAVING sum(n) <> 0
       ORDER BY project_id, type, status`;
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /**
   * Jobs finished per bucket of `bucketSec` seconds, buckets starting at `since` and every
   * `bucketSec` after it up to now, oldest first; empty buckets are present with zeros.
   * `failed` counts the failed ones among `finished`.
   */
  async finishedSeries(since: Date, bucketSec: number): Promise<FinishedBucket[]> {
    if (!(bucketSec > 0)) throw new Error(`bucketSec must be positive, got ${bucketSec}`);
    const bucketMs = bucketSec * 1000;
    const until = Date.now();
    const bucketCount = Math.max(0, Math.ceil((until - since.getTime()) / bucketMs));
    const rows = await this.db.$queryRaw<Array<{ bucket: number; finished: bigint; failed: bigint }>>`
      SELECT floor(extract(epoch FROM finished_at - ${since}::timestamptz) * 1000 / ${bucketMs})::int AS bucket,
             count(*) AS finished,
             count(*) FILTER (WHERE status = 'failed') AS failed
        FROM jobs
       WHERE finished_at >= ${since}::timestamptz AND finished_at < ${new Date(until)}::timestamptz
       GROUP BY 1`;
    const byBucket = new Map(rows.map((row) => [row.bucket, row]));
    return Array.from({ length: bucketCount }, (_, n) => {
      const row = byBucket.get(n);
      return { start: new Date(since.getTime() + n * bucketMs), finished: Number(row?.finished ?? 0), failed: Number(row?.failed ?? 0) };
    });
  }

  /** Jobs finished since `since`, by final status. */
  async finishedSince(since: Date): Promise<{ status: string; count: number }[]> {
    const rows = await this.db.$queryRaw<Array<{ status: string; count: bigint }>>`
      SELECT status, count(*) AS count FROM jobs WHERE finished_at >= ${since}::timestamptz GROUP BY status ORDER BY status`;
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }

  /**
   * Deliveries waiting (and, among them, those that already failed at least once), and those that
   * reached their final status in the last 24 h (a delivery's updated_at is its last change).
   */
  async webhookCounts(): Promise<WebhookCounts> {
    const dayAgo = new Date(Date.now() - DAY_MS);
    const [row] = await this.db.$queryRaw<Array<{ pending: bigint; failing: bigint; succeeded24h: bigint; failed24h: bigint }>>`
      SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempt_count > 0) AS failing,
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded' AND updated_at >= ${dayAgo}::timestamptz) AS "succeeded24h",
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND updated_at >= ${dayAgo}::timestamptz) AS "failed24h"`;
    return {
      pending: Number(row?.pending ?? 0),
      failing: Number(row?.failing ?? 0),
      succeeded24h: Number(row?.succeeded24h ?? 0),
      failed24h: Number(row?.failed24h ?? 0),
    };
  }
}
