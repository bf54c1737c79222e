import { isFinalStatus, isGeminiModel, type EmbeddingBatchInput, type JobError } from '@genqueue/core';
import type { EmbeddingChunk, Job } from '@genqueue/db';
import type { EmbeddingChunkRef } from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import { decideFailure, unlessTriedTooOften } from '../failure-policy';
import { readAll } from './read-all';
import { chunkInputKey, chunkResultKey, parseChunkInputLines, refOf, resultLine } from './batch-files';
import { BatchProgress } from './batch-progress';
import type { EmbeddingServices } from './embedding-services';

export type ChunkOutcome =
  | { kind: 'done' }
  | { kind: 'retry'; error: JobError }
  | { kind: 'rate_limited'; error: JobError; pauseMs?: number }
  /** shutting down, or the batch is not running yet (a retry being set up): run again shortly */
  | { kind: 'later' };

/** Runs one chunk of an `embedding.batch`: one gateway request, one result file, one guarded row update. */
export class ChunkRunner {
  private readonly progress: BatchProgress;

  constructor(
    private readonly svc: EmbeddingServices,
    private readonly upstream: UpstreamClient,
    private readonly logger: Logger,
  ) {
    this.progress = new BatchProgress(svc);
  }

  async run(ref: EmbeddingChunkRef, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<ChunkOutcome> {
    const { chunks } = this.svc;
    const parent = await this.svc.jobs.findById(ref.jobId);
    if (!parent || isFinalStatus(parent.status)) {
      await this.stopRemaining(ref.jobId);
      return { kind: 'done' };
    }
    if (parent.status !== 'running') return { kind: 'later' };
    const row = await chunks.claim(ref.jobId, ref.index);
    if (!row) {
      // Final already (a repeat after a crash): make sure the batch hears about it.
      if (await chunks.find(ref.jobId, ref.index)) await this.afterFinal(parent);
      return { kind: 'done' };
    }
    try {
      await this.embed(parent, row, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) return { kind: 'later' };
      const decision = unlessTriedTooOften(decideFailure(err), row.attempts, this.svc.retry.maxAttempts);
      this.logger.warn({ jobId: ref.jobId, chunk: ref.index, err, action: decision.action }, 'embedding.chunk_failed');
      if (decision.action === 'rate_limited') return { kind: 'rate_limited', error: decision.error };
      if (decision.action === 'wait') {
        // held back before it left: the claim was no try (the row goes back to pending on the next claim)
        if (!decision.sent) await chunks.returnAttempt(ref.jobId, ref.index).catch(() => undefined);
        return { kind: 'rate_limited', error: decision.error, pauseMs: decision.delayMs };
      }
      if (decision.action === 'retry' && !ctx.isLastAttempt) return { kind: 'retry', error: decision.error };
      await chunks.markFailed(ref.jobId, ref.index, decision.error);
    }
    await this.afterFinal(parent);
    return { kind: 'done' };
  }

  private async embed(parent: Job, row: EmbeddingChunk, signal: AbortSignal): Promise<void> {
    const input = parent.input as EmbeddingBatchInput;
    const text = (await readAll(this.svc.storage.read(chunkInputKey(parent.projectId, parent.id, row.index)))).toString('utf8');
    const lines = parseChunkInputLines(text);
    const texts = lines.map((line) => line.input);
    const result = isGeminiModel(input.model)
      ? await this.upstream.embeddings.gemini({ model: input.model, inputs: texts, dimensions: input.dimensions, taskType: input.task_type }, { signal })
      : await this.upstream.embeddings.create({ model: input.model, input: texts, dimensions: input.dimensions }, { signal });
    const out = lines.map((line, i) => resultLine(refOf(line), result.vectors[i] ?? [])).join('');
    const resultKey = chunkResultKey(parent.projectId, parent.id, row.index);
    // The file appears whole or not at all (temp file + rename), before the row says it exists.
    await this.svc.storage.put(resultKey, Buffer.from(out, 'utf8'));
    await this.svc.chunks.markSucceeded(parent.id, row.index, {
      resultKey,
      promptTokens: result.usage.promptTokens,
      totalTokens: result.usage.totalTokens,
    });
  }

  /** Progress, and the wake-up of the batch when this was the last open chunk (a guarded count decides). */
  private async afterFinal(parent: Job): Promise<void> {
    const counts = await this.svc.chunks.counts(parent.id);
    // Until the split has recorded every chunk, the total is not known; the batch checks for itself after it.
    const fresh = await this.svc.jobs.findById(parent.id);
    if (!fresh || fresh.status !== 'running' || fresh.upstreamStatus !== 'chunked') return;
    await this.progress.report(parent.id, counts.finished, counts.total).catch((err: unknown) => {
      this.logger.debug({ err, jobId: parent.id }, 'embedding.progress_failed');
    });
    if (counts.finished === counts.total) {
      const woken = await this.svc.chunkQueue.wakeParent(parent.id);
      this.logger.info({ jobId: parent.id, chunks: counts.total, woken }, 'embedding.chunks_done');
    }
  }

  /** The batch ended (canceled, failed): the chunks still open end without calling the gateway. */
  private async stopRemaining(jobId: string): Promise<void> {
    const canceled = await this.svc.chunks.cancelOpen(jobId);
    if (canceled.length === 0) return;
    const removed = await this.svc.chunkQueue.remove(jobId, canceled);
    this.logger.info({ jobId, canceled: canceled.length, removed }, 'embedding.chunks_canceled');
  }
}
