import type { JobHandler } from '../handlers/handler';
import { JobFailure } from '../handlers/job-failure';
import { parkBeforeAssembly } from './assembly-start';
import { finaliseBatch } from './batch-finaliser';
import { splitBatch } from './batch-split';
import { withBoundedHeapGrowth } from './bounded-heap-growth';
import { recoverOpenChunks } from './open-chunks';

/** `upstreamStatus` of a batch whose chunks are all recorded and enqueued. WARNING: persisted. */
export const CHUNKED = 'chunked';

/**
 * `embedding.batch`: the first run cuts the batch into chunk jobs and parks; chunks run on their
 * own queue under the lane's limits. The batch wakes for its last chunks (or is woken by the last
 * one) and assembles the output in order as they finish. It holds no worker slot while the others run.
 */
export const embeddingBatchHandler: JobHandler<'embedding.batch'> = async (ctx) => {
  const svc = ctx.embeddings;
  if (!svc) throw new JobFailure('internal_error', 'This worker runs no embedding lane', true);
  const job = ctx.job;
  const input = ctx.input;
  if (job.upstreamStatus !== CHUNKED) {
    // A retry runs the chunks that did not succeed again; succeeded ones keep their results.
    await svc.chunks.reopenUnsucceeded(job.id);
    const split = await withBoundedHeapGrowth(() => splitBatch(job, input, svc));
    if (split.inputs === 0) throw new JobFailure('invalid_input', 'The batch has no inputs');
    await svc.jobs.updateRunning(job.id, { upstreamStatus: CHUNKED, upstreamState: split, lastProgressAt: new Date() });
    ctx.logger.info({ chunks: split.chunks, inputs: split.inputs }, 'embedding.batch_split');
  } else {
    // Woken by the last chunk, or the park timer ran out: put back chunks Redis lost or ended while
    // their rows stayed open (live ids are left alone).
    await recoverOpenChunks(job, svc);
  }
  // Parked until its last chunks run; then it assembles the finished ones while those run.
  const parkMs = parkBeforeAssembly(await svc.chunks.counts(job.id), svc);
  if (parkMs > 0) return { park: { delayMs: parkMs } };
  // while it waits on a chunk, it looks for chunks whose queue jobs were lost or ended (a chunk job
  // BullMQ failed after its worker died, say) as often as a parked batch would
  const whileWaiting = { everyMs: svc.parkMs, check: () => recoverOpenChunks(job, svc).then(() => undefined) };
  return { output: await withBoundedHeapGrowth(() => finaliseBatch(job, svc, { signal: ctx.signal, whileWaiting })) };
};
