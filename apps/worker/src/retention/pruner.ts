import { setTimeout as delay } from 'node:timers/promises';
import type { RetentionRepository, StoredBytes } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';

export type PrunerDeps = {
  retention: RetentionRepository;
  storage: Pick<ObjectStorage, 'delete'>;
  logger: Logger;
  /** jobs (and artifact or chunk rows) per batch */
  batchSize: number;
  /** pause between batches, so a long prune leaves room to live traffic */
  pauseMs: number;
  defaultRetentionDays: number;
  /** a run stops after this long and the next one resumes (the lease around it has a deadline) */
  budgetMs: number;
  /** storage deletes in flight at once */
  deleteConcurrency?: number;
  signal?: AbortSignal;
  now?: () => Date;
};

export type PruneReport = {
  jobs: number;
  events: number;
  attempts: number;
  deliveries: number;
  artifacts: number;
  chunks: number;
  files: number;
  /** stopped by the time budget or a shutdown, with work left */
  isPartial: boolean;
};

/** A prune stopped between marking jobs and removing their bytes is finished within this window. */
const LEFTOVER_WINDOW_MS = 7 * 24 * 3_600_000;

async function deleteAll(storage: PrunerDeps['storage'], keys: readonly string[], concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      await storage.delete(key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return keys.length;
}

/**
 * One retention run: finished jobs past their project's `limits.retention_days` lose their events,
 * attempt log, webhook deliveries, artifacts and chunk files (bytes in storage first, then rows),
 * batch by batch with a pause between; the job rows stay as pruned summaries. Detached artifacts
 * past retention go too. Storage deletes are idempotent, so a batch that fails half-way is redone.
 */
export async function prune(deps: PrunerDeps): Promise<PruneReport> {
  const now = deps.now ?? (() => new Date());
  const startedMs = Date.now();
  const concurrency = deps.deleteConcurrency ?? 8;
  const report: PruneReport = { jobs: 0, events: 0, attempts: 0, deliveries: 0, artifacts: 0, chunks: 0, files: 0, isPartial: false };
  const outOfTime = () => deps.signal?.aborted === true || Date.now() - startedMs >= deps.budgetMs;
  const pause = () => (deps.pauseMs > 0 ? delay(deps.pauseMs, undefined, { signal: deps.signal }).catch(() => undefined) : Promise.resolve());

  const removeArtifacts = async (rows: readonly StoredBytes[]) => {
    report.files += await deleteAll(deps.storage, rows.map((r) => r.storageKey), concurrency);
    report.artifacts += await deps.retention.deleteArtifacts(rows.map((r) => r.id));
  };
  const removeChunks = async (rows: ReadonlyArray<{ id: string; resultKey: string | null }>) => {
    report.files += await deleteAll(deps.storage, rows.flatMap((r) => (r.resultKey ? [r.resultKey] : [])), concurrency);
    report.chunks += await deps.retention.deleteChunks(rows.map((r) => r.id));
  };

  // what an interrupted run left: rows of jobs already marked pruned
  const since = new Date(now().getTime() - LEFTOVER_WINDOW_MS);
  for (;;) {
    if (outOfTime()) return { ...report, isPartial: true };
    const artifacts = await deps.retention.leftoverArtifacts(since, deps.batchSize);
    const chunks = await deps.retention.leftoverChunks(since, deps.batchSize);
    if (artifacts.length === 0 && chunks.length === 0) break;
    await removeArtifacts(artifacts);
    await removeChunks(chunks);
    await pause();
  }

  for (;;) {
    if (outOfTime()) return { ...report, isPartial: true };
    const batch = await deps.retention.pruneJobs({ limit: deps.batchSize, defaultRetentionDays: deps.defaultRetentionDays, now: now() });
    if (batch.jobIds.length === 0) break;
    report.jobs += batch.jobIds.length;
    report.events += batch.events;
    report.attempts += batch.attempts;
    report.deliveries += batch.deliveries;
    // one job may hold many artifacts or chunks (a batch of a million lines): page through them
    for (const jobIds of chunked(batch.jobIds, Math.max(1, Math.floor(deps.batchSize / 10)))) {
      await removeArtifacts(await deps.retention.artifactsOfJobs(jobIds));
      await removeChunks(await deps.retention.chunksOfJobs(jobIds));
    }
    await pause();
  }

  for (;;) {
    if (outOfTime()) return { ...report, isPartial: true };
    const detached = await deps.retention.detachedArtifacts({ limit: deps.batchSize, defaultRetentionDays: deps.defaultRetentionDays, now: now() });
    if (detached.length === 0) break;
    await removeArtifacts(detached);
    await pause();
  }
  return report;
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
