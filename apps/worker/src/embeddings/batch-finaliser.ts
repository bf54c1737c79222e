import { Readable } from 'node:stream';
import { newId } from '@genqueue/core';
import type { Artifact, Job } from '@genqueue/db';
import { JobFailure } from '../handlers/job-failure';
import { chunkInputKey, chunkResultKey, errorLine, failedResultLine, parseChunkInputLines, refOf } from './batch-files';
import type { EmbeddingServices } from './embedding-services';
import { readAll } from './read-all';
import { settledChunks, type SettledChunksOptions } from './settled-chunks';

const NDJSON = 'application/x-ndjson';

type Piece = { index: number; status: string; inputCount: number; resultKey: string | null; error: { code: string; message: string } | null };

function errorOf(status: string, error: unknown): { code: string; message: string } {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && typeof e.message === 'string') return { code: e.code, message: e.message };
  return { code: status === 'canceled' ? 'canceled' : 'upstream_error', message: `the chunk ${status === 'canceled' ? 'was canceled' : 'failed'}` };
}

/** What assembling needs: the chunk rows, the artifact rows and the files. */
export type FinaliserServices = Pick<EmbeddingServices, 'chunks' | 'artifacts' | 'storage'>;

/**
 * Assembles a batch: one result line per input in input order (per-chunk result files copied
 * through, failed inputs as `embedding: null` lines), an errors file when any input failed. Chunks
 * still running are waited for in order, so the copy of the finished ones overlaps the last ones
 * (`signal` ends that wait). Streams throughout; holds a record per failed chunk. Idempotent: a
 * re-run (the worker died before the job's success was recorded) keeps the result and errors
 * artifacts an earlier run saved, so it needs no chunk file that run already removed.
 */
export async function finaliseBatch(job: Job, svc: FinaliserServices, options: SettledChunksOptions = {}): Promise<Record<string, unknown>> {
  const storage = svc.storage;
  const indexes: number[] = [];
  const failedPieces: Piece[] = [];
  let count = 0;
  let failed = 0;
  let promptTokens = 0;
  let totalTokens = 0;
  const pieces = async function* (): AsyncGenerator<Piece> {
    for await (const row of settledChunks(job.id, svc.chunks, options)) {
      const ok = row.status === 'succeeded' && row.resultKey !== null;
      const piece: Piece = { index: row.index, status: row.status, inputCount: row.inputCount, resultKey: row.resultKey, error: ok ? null : errorOf(row.status, row.error) };
      indexes.push(row.index);
      count += row.inputCount;
      if (ok) {
        promptTokens += row.promptTokens;
        totalTokens += row.totalTokens;
      } else {
        failed += row.inputCount;
        failedPieces.push(piece);
      }
      yield piece;
    }
  };

  const inputLines = async (p: Piece) =>
    parseChunkInputLines((await readAll(storage.read(chunkInputKey(job.projectId, job.id, p.index)))).toString('utf8'));
  async function* resultBytes(): AsyncGenerator<Buffer> {
    for await (const p of pieces()) {
      if (!p.error && p.resultKey) {
        for await (const part of storage.read(p.resultKey)) yield part as Buffer;
      } else {
        yield Buffer.from((await inputLines(p)).map((line) => failedResultLine(refOf(line), p.error!)).join(''), 'utf8');
      }
    }
  }
  async function* errorBytes(): AsyncGenerator<Buffer> {
    for (const p of failedPieces) yield Buffer.from((await inputLines(p)).map((line) => errorLine(refOf(line), p.error!)).join(''), 'utf8');
  }

  // an artifact row is written only once its bytes are all stored, so an earlier one is whole
  const earlier = await svc.artifacts.listForJob(job.id);
  const earlierResult = earlier.find((a) => a.kind === 'result');
  let staged: Staged | null = null;
  if (earlierResult) {
    // the totals only
    for await (const piece of pieces()) void piece;
  } else {
    staged = await stageStreamed(job, svc, resultBytes());
  }
  if (count > 0 && failed === count) {
    if (staged) await storage.delete(staged.storageKey).catch(() => undefined);
    throw new JobFailure('upstream_error', `Every chunk of the batch failed; the first: ${failedPieces[0]?.error?.message ?? 'unknown'}`, true);
  }
  const result = earlierResult ?? (await recordStaged(job, svc, 'result', staged!));
  const errors = failed > 0 ? (earlier.find((a) => a.kind === 'errors') ?? (await recordStaged(job, svc, 'errors', await stageStreamed(job, svc, errorBytes())))) : null;
  await removeChunkFiles(job, svc, indexes);
  return {
    count,
    succeeded: count - failed,
    failed,
    usage: { prompt_tokens: promptTokens, total_tokens: totalTokens },
    result: { artifact_id: result.id },
    ...(errors ? { errors: { artifact_id: errors.id } } : {}),
  };
}

/** Bytes stored under an artifact's key, its row not yet written. */
type Staged = { id: string; storageKey: string; bytes: number; sha256: string };

async function stageStreamed(job: Job, svc: FinaliserServices, bytes: AsyncGenerator<Buffer>): Promise<Staged> {
  const id = newId('art');
  const storageKey = `artifacts/${job.projectId}/${id}.jsonl`;
  const stored = await svc.storage.put(storageKey, Readable.from(bytes, { objectMode: false }));
  return { id, storageKey, bytes: stored.bytes, sha256: stored.sha256 };
}

async function recordStaged(job: Job, svc: FinaliserServices, kind: 'result' | 'errors', staged: Staged): Promise<Artifact> {
  const { id, storageKey } = staged;
  try {
    return await svc.artifacts.create({ id, projectId: job.projectId, jobId: job.id, kind, contentType: NDJSON, bytes: staged.bytes, sha256: staged.sha256, storageKey, sourceUrl: null });
  } catch (err) {
    await svc.storage.delete(storageKey).catch(() => undefined);
    throw err;
  }
}

/** Chunk files removed at a time. */
const REMOVE_BATCH = 32;

/** The chunk files are copied into the artifacts now; a re-run after a crash reuses the artifacts. */
async function removeChunkFiles(job: Job, svc: FinaliserServices, indexes: readonly number[]): Promise<void> {
  for (let start = 0; start < indexes.length; start += REMOVE_BATCH) {
    await Promise.all(
      indexes.slice(start, start + REMOVE_BATCH).flatMap((index) => [
        svc.storage.delete(chunkInputKey(job.projectId, job.id, index)).catch(() => undefined),
        svc.storage.delete(chunkResultKey(job.projectId, job.id, index)).catch(() => undefined),
      ]),
    );
  }
}
