import type { EmbeddingBatchInput } from '@genqueue/core';
import type { Job, NewChunk } from '@genqueue/db';
import { chunkInputKey, chunkInputLine } from './batch-files';
import { batchItems } from './batch-source';
import { ChunkPlanner, type PlannedChunk } from './chunk-planner';
import type { EmbeddingServices } from './embedding-services';

/**
 * Chunks are recorded and enqueued in groups: the first group is one chunk (it is in flight while
 * the rest is cut), each next one twice the last, up to this many (one insert and one addBulk each).
 */
const RECORD_GROUP = 100;

export type SplitResult = { chunks: number; inputs: number };

/**
 * Cuts the batch into chunk input files, chunk rows and chunk queue jobs, streaming. Safe to run
 * again (a crash mid-way, a retry): files are rewritten with the same bytes, rows are inserted
 * only when missing, and only chunks not yet final are enqueued.
 */
export async function splitBatch(job: Job, input: EmbeddingBatchInput, svc: EmbeddingServices): Promise<SplitResult> {
  const planner = new ChunkPlanner(input.model, input.chunk_size);
  let group: NewChunk[] = [];
  let groupSize = 1;
  let chunks = 0;

  const flush = async (): Promise<void> => {
    if (group.length === 0) return;
    await svc.chunks.createMany(job.id, group);
    const first = group[0]!.index;
    const last = group[group.length - 1]!.index;
    const open = await svc.chunks.openIndexes(job.id, { from: first, to: last });
    await svc.chunkQueue.enqueue(job.id, open, {
      priority: job.priority,
      maxAttempts: svc.retry.maxAttempts,
      backoffDelayMs: svc.retry.baseDelayMs,
    });
    group = [];
    groupSize = Math.min(RECORD_GROUP, groupSize * 2);
  };
  const store = async (chunk: PlannedChunk): Promise<void> => {
    await svc.storage.put(chunkInputKey(job.projectId, job.id, chunk.index), chunk.bytes);
    group.push({ index: chunk.index, firstInput: chunk.firstInput, inputCount: chunk.inputCount });
    chunks += 1;
    if (group.length >= groupSize) await flush();
  };

  for await (const item of batchItems(input, job.projectId, svc)) {
    const closed = planner.push(chunkInputLine(item.ref, item.text), item.text);
    if (closed) await store(closed);
  }
  const last = planner.finish();
  if (last) await store(last);
  await flush();
  return { chunks, inputs: planner.inputCount };
}
