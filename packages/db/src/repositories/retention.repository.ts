import type { PrismaClient } from '../generated/prisma/client';

/** A project keeps finished jobs' details this long unless its `limits.retention_days` says otherwise. */
export const DEFAULT_RETENTION_DAYS = 30;

/** An input or output larger than this (as stored) is replaced by `{"truncated": true, "bytes": N}` in a pruned job's summary. */
export const PRUNED_JSON_MAX_BYTES = 8 * 1024;

/** `limits.retention_days` of a stored `limits` value; null when the project sets none. */
export function retentionDaysOf(limits: unknown): number | null {
  if (typeof limits !== 'object' || limits === null) return null;
  const days = (limits as { retention_days?: unknown }).retention_days;
  return typeof days === 'number' && Number.isFinite(days) && days >= 1 ? Math.floor(days) : null;
}

export type PrunedJobs = { jobIds: string[]; events: number; attempts: number; deliveries: number };
export type StoredBytes = { id: string; storageKey: string };

/** The retention days of a project row, in SQL (a number in `limits.retention_days`, else the default). */
const retentionDaysSql = `CASE WHEN jsonb_typeof(p.limits->'retention_days') = 'number' AND (p.limits->>'retention_days')::numeric >= 1
  THEN floor((p.limits->>'retention_days')::numeric)::int ELSE $2::int END`;

const FINAL = `('succeeded', 'failed', 'canceled', 'expired')`;

/**
 * The retention pruner's reads and deletes. Every method is one short statement or transaction on
 * a bounded number of rows picked by primary key, with `FOR UPDATE SKIP LOCKED` where rows are
 * claimed: it never holds a table lock and never waits on a row someone else is changing.
 */
export class RetentionRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Claims up to `limit` finished jobs past their project's retention, in one transaction: removes
   * their events, attempt log and webhook deliveries (their attempts cascade), and marks them pruned,
   * with an input or output over 8 KiB cut to `{"truncated": true, "bytes": N}` and the worker's
   * resumable state dropped. Their artifacts and chunk files go next (`artifactsOfJobs`,
   * `chunkFilesOfJobs`): bytes first, then rows, so no row ever points at removed bytes unnoticed.
   */
  pruneJobs(options: { limit: number; defaultRetentionDays: number; now?: Date }): Promise<PrunedJobs> {
    const now = options.now ?? new Date();
    return this.db.$transaction(async (tx) => {
      const picked = await tx.$queryRawUnsafe<{ id: string }[]>(
        `WITH picked AS (
           SELECT j.id FROM jobs j JOIN projects p ON p.id = j.project_id
            WHERE j.pruned_at IS NULL
              AND j.finished_at < $1::timestamptz - interval '1 day'
              AND j.status IN ${FINAL}
              AND j.finished_at < $1::timestamptz - make_interval(days => ${retentionDaysSql})
            ORDER BY j.finished_at
            LIMIT $3
            FOR UPDATE OF j SKIP LOCKED
         )
         UPDATE jobs SET
           pruned_at = $1::timestamptz,
           -- the JSON's size, not pg_column_size: that is the compressed size, and repetitive JSON compresses far
           input = CASE WHEN octet_length(jobs.input::text) > $4 THEN jsonb_build_object('truncated', true, 'bytes', octet_length(jobs.input::text)) ELSE jobs.input END,
           output = CASE WHEN octet_length(jobs.output::text) > $4 THEN jsonb_build_object('truncated', true, 'bytes', octet_length(jobs.output::text)) ELSE jobs.output END,
           upstream_state = NULL,
           received_output = NULL
         FROM picked WHERE jobs.id = picked.id
         RETURNING jobs.id`,
        now,
        options.defaultRetentionDays,
        options.limit,
        PRUNED_JSON_MAX_BYTES,
      );
      const jobIds = picked.map((r) => r.id);
      if (jobIds.length === 0) return { jobIds, events: 0, attempts: 0, deliveries: 0 };
      const deliveries = await tx.$executeRaw`DELETE FROM webhook_deliveries WHERE job_id = ANY(${jobIds}::text[])`;
      const events = await tx.$executeRaw`DELETE FROM job_events WHERE job_id = ANY(${jobIds}::text[])`;
      const attempts = await tx.$executeRaw`DELETE FROM job_attempts WHERE job_id = ANY(${jobIds}::text[])`;
      return { jobIds, events, attempts, deliveries };
    });
  }

  /** Artifacts still attached to these (pruned) jobs. */
  async artifactsOfJobs(jobIds: readonly string[]): Promise<StoredBytes[]> {
    if (jobIds.length === 0) return [];
    return this.db.$queryRaw<StoredBytes[]>`
      SELECT id, storage_key AS "storageKey" FROM artifacts WHERE job_id = ANY(${[...jobIds]}::text[]) ORDER BY id`;
  }

  /**
   * Artifacts of jobs pruned since `since` that are still there: a prune stopped between marking the
   * jobs and removing their bytes (a crash, a shutdown) is finished by the next run.
   */
  async leftoverArtifacts(since: Date, limit: number): Promise<StoredBytes[]> {
    return this.db.$queryRaw<StoredBytes[]>`
      SELECT a.id, a.storage_key AS "storageKey"
        FROM jobs j JOIN artifacts a ON a.job_id = j.id
       WHERE j.pruned_at >= ${since}
       ORDER BY a.id
       LIMIT ${limit}`;
  }

  /** Artifacts no job holds any more (an earlier run's, let go by a retry) past their project's retention. */
  async detachedArtifacts(options: { limit: number; defaultRetentionDays: number; now?: Date }): Promise<StoredBytes[]> {
    return this.db.$queryRawUnsafe<StoredBytes[]>(
      `SELECT a.id, a.storage_key AS "storageKey"
         FROM artifacts a JOIN projects p ON p.id = a.project_id
        WHERE a.job_id IS NULL
          AND a.created_at < $1::timestamptz - make_interval(days => ${retentionDaysSql})
        ORDER BY a.created_at
        LIMIT $3`,
      options.now ?? new Date(),
      options.defaultRetentionDays,
      options.limit,
    );
  }

  /** Removes artifact rows (their bytes already gone); only those detached or of a pruned job. */
  async deleteArtifacts(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.db.$executeRaw`
      DELETE FROM artifacts a
       WHERE a.id = ANY(${[...ids]}::text[])
         AND (a.job_id IS NULL OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = a.job_id AND j.pruned_at IS NOT NULL))`;
  }

  /** Chunk result files of these (pruned) embedding batches: a finished batch may still hold some; a canceled or failed one does. */
  async chunksOfJobs(jobIds: readonly string[]): Promise<Array<{ id: string; resultKey: string | null }>> {
    if (jobIds.length === 0) return [];
    return this.db.$queryRaw`
      SELECT id, result_key AS "resultKey" FROM embedding_chunks WHERE job_id = ANY(${[...jobIds]}::text[]) ORDER BY id`;
  }

  /** Chunks of jobs pruned since `since` still there (see leftoverArtifacts). */
  async leftoverChunks(since: Date, limit: number): Promise<Array<{ id: string; resultKey: string | null }>> {
    return this.db.$queryRaw`
      SELECT c.id, c.result_key AS "resultKey"
        FROM jobs j JOIN embedding_chunks c ON c.job_id = j.id
       WHERE j.pruned_at >= ${since}
       ORDER BY c.id
       LIMIT ${limit}`;
  }

  async deleteChunks(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.db.$executeRaw`
      DELETE FROM embedding_chunks c
       WHERE c.id = ANY(${[...ids]}::text[])
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job_id AND j.pruned_at IS NOT NULL)`;
  }

  /**
   * Claims this interval's run: true (and records `now`) when the last run began `minGapMs` ago or
   * more. Called under the pruner's advisory lease, so two processes never both claim one interval.
   */
  async claimRun(name: string, minGapMs: number, now = new Date()): Promise<boolean> {
    const claimed = await this.db.$executeRaw`
      INSERT INTO system_settings (key, value) VALUES (${name}, ${now.toISOString()})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
       WHERE system_settings.value::timestamptz <= ${new Date(now.getTime() - minGapMs)}`;
    return claimed === 1;
  }
}
