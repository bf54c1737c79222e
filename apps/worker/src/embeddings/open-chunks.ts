import type { Job } from '@genqueue/db';
import type { EmbeddingServices } from './embedding-services';

/** What a chunk whose worker died under it WORKER_CRASH_LIMIT times ends with (its inputs fail, the batch goes on). */
export const CHUNK_WORKER_CRASHED = {
  code: 'worker_crashed',
  message: 'The chunk stopped its worker too often (the process died while running it); it is not run again',
  retryable: false,
} as const;

/**
 * The batch's open chunks whose queue jobs Redis lost or ended are put back (live ones are left
 * alone); a chunk whose worker died under it WORKER_CRASH_LIMIT times is failed instead, so it
 * cannot take worker after worker down. Run when a batch wakes, and while its assembly waits on a
 * chunk: a chunk job failed by BullMQ after a worker's death must not leave the batch waiting for
 * good. Answers how many chunks it failed.
 */
export async function recoverOpenChunks(job: Job, svc: EmbeddingServices): Promise<number> {
  const open = await svc.chunks.openIndexes(job.id);
  if (open.length === 0) return 0;
  const { crashed } = await svc.chunkQueue.requeue(
    job.id,
    open,
    { priority: job.priority, maxAttempts: svc.retry.maxAttempts, backoffDelayMs: svc.retry.baseDelayMs },
    svc.workerCrashLimit,
  );
  for (const index of crashed) await svc.chunks.markFailed(job.id, index, CHUNK_WORKER_CRASHED);
  return crashed.length;
}
