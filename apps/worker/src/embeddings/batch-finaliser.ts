import { Readable } from 'node:stream';
import { newId } from '@genqueue/core';
import type { Artifact, Job } from '@genqueue/db';
import { JobFailure } from '../handlers/job-failure';
import { chunkInputKey, chunkResultKey, errorLine, failedResultLine, parseChunkInputLines, refOf } from './batch-files';
import type { EmbeddingServices } from './embedding-services';
import { readAll } from './read-all';

const PAGE = 1_000;
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
 * Assembles a batch whose chunks are all final: one result line per input in input order
 * (per-chunk result files copied through, failed inputs as `embedding: null` lines), an errors
 * file when any input failed. Streams throughout; holds one small record per chunk. Idempotent:
 * a re-run (the worker died before the job's success was recorded) keeps the result and errors
 * artifacts an earlier run saved, so it needs no chunk file that run already removed.
 */
export async function finaliseBatch(job: Job, svc: FinaliserServices): Promise<Record<string, unknown>> {
  const pieces: Piece[] = [];
  let promptTokens = 0;
  let totalTokens = 0;
  for (let after = -1; ; ) {
    const rows = await svc.chunks.listPage(job.id, after, PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      const ok = row.status === 'succeeded' && row.resultKey !== null;
      pieces.push({ index: row.index, status: row.status, inputCount: row.inputCount, resultKey: row.resultKey, error: ok ? null : errorOf(row.status, row.error) });
      if (ok) {
        promptTokens += row.promptTokens;
        totalTokens += row.totalTokens;
      }
    }
    after = rows[rows.length - 1]!.index;
  }
  const count = pieces.reduce((sum, p) => sum + p.inputCount, 0);
  const failedPieces = pieces.filter((p) => p.error);
  const failed = failedPieces.reduce((sum, p) => sum + p.inputCount, 0);
  if (count > 0 && failed === count) {
    throw new JobFailure('upstream_error', `Every chunk of the batch failed; the first: ${failedPieces[0]?.error?.message ?? 'unknown'}`, true);
  }

  const storage = svc.storage;
  const inputLines = async (p: Piece) =>
    parseChunkInputLines((await readAll(storage.read(chunkInputKey(job.projectId, job.id, p.index)))).toString('utf8'));
  async function* resultBytes(): AsyncGenerator<Buffer> {
    for (const p of pieces) {
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
  const result = earlier.find((a) => a.kind === 'result') ?? (await saveStreamed(job, svc, 'result', resultBytes()));
  const errors = failed > 0 ? (earlier.find((a) => a.kind === 'errors') ?? (await saveStreamed(job, svc, 'errors', errorBytes()))) : null;
  await removeChunkFiles(job, svc, pieces);
  return {
    count,
    succeeded: count - failed,
    failed,
    usage: { prompt_tokens: promptTokens, total_tokens: totalTokens },
    result: { artifact_id: result.id },
    ...(errors ? { errors: { artifact_id: errors.id } } : {}),
  };
}

async function saveStreamed(job: Job, svc: FinaliserServices, kind: 'result' | 'errors', bytes: AsyncGenerator<Buffer>): Promise<Artifact> {
  const id = newId('art');
  const storageKey = `artifacts/${job.projectId}/${id}.jsonl`;
  const stored = await svc.storage.put(storageKey, Readable.from(bytes, { objectMode: false }));
  try {
    return await svc.artifacts.create({ id, projectId: job.projectId, jobId: job.id, kind, contentType: NDJSON, bytes: stored.bytes, sha256: stored.sha256, storageKey, sourceUrl: null });
  } catch (err) {
    await svc.storage.delete(storageKey).catch(() => undefined);
    throw err;
  }
}

/** The chunk files are copied into the artifacts now; a re-run after a crash reuses the artifacts. */
async function removeChunkFiles(job: Job, svc: FinaliserServices, pieces: Piece[]): Promise<void> {
  for (const p of pieces) {
    await svc.storage.delete(chunkInputKey(job.projectId, job.id, p.index)).catch(() => undefined);
    await svc.storage.delete(chunkResultKey(job.projectId, job.id, p.index)).catch(() => undefined);
  }
}
