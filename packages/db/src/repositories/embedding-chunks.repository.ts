import type pg from 'pg';
import { poolOf } from '../client';
import { Prisma, type EmbeddingChunk, type PrismaClient } from '../generated/prisma/client';
import { asJson } from './types';

export type ChunkStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const FINAL_CHUNK_STATUSES: readonly ChunkStatus[] = ['succeeded', 'failed', 'canceled'];
const OPEN: ChunkStatus[] = ['pending', 'running'];

export type NewChunk = { index: number; firstInput: number; inputCount: number };
export type ChunkCounts = { total: number; finished: number };

/** WARNING: chunk row ids are `<job id>:<index>`; the worker derives them, do not change. */
export const chunkRowId = (jobId: string, index: number): string => `${jobId}:${index}`;

/** A chunk row read with raw SQL, in the shape Prisma answers with. WARNING: a new column needs a line here. */
function chunkFromRow(r: Record<string, unknown>): EmbeddingChunk {
  return {
    id: r['id'] as string,
    jobId: r['job_id'] as string,
    index: r['index'] as number,
    firstInput: r['first_input'] as number,
    inputCount: r['input_count'] as number,
    status: r['status'] as string,
    attempts: r['attempts'] as number,
    resultKey: (r['result_key'] ?? null) as string | null,
    promptTokens: r['prompt_tokens'] as number,
    totalTokens: r['total_tokens'] as number,
    error: (r['error'] ?? null) as EmbeddingChunk['error'],
    createdAt: r['created_at'] as Date,
    updatedAt: r['updated_at'] as Date,
  };
}

/**
 * The chunks of an `embedding.batch` job. Every write is guarded by status, so repeats are harmless.
 * The statements every chunk runs (claim, success, counts) are raw SQL on the client's pg pool.
 */
export class EmbeddingChunksRepository {
  private readonly pool: pg.Pool | undefined;

  constructor(private readonly db: PrismaClient) {
    this.pool = poolOf(db);
  }

  /** Inserts the chunks that are not there yet (a re-run after a crash plans the same chunks again). */
  async createMany(jobId: string, chunks: NewChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.db.embeddingChunk.createMany({
      data: chunks.map((c) => ({ id: chunkRowId(jobId, c.index), jobId, index: c.index, firstInput: c.firstInput, inputCount: c.inputCount })),
      skipDuplicates: true,
    });
  }

  /** A new run of the batch (a retry) runs every chunk that did not succeed again. */
  async reopenUnsucceeded(jobId: string): Promise<number> {
    const { count } = await this.db.embeddingChunk.updateMany({
      where: { jobId, status: { in: ['failed', 'canceled'] } },
      data: { status: 'pending', attempts: 0, error: Prisma.DbNull, updatedAt: new Date() },
    });
    return count;
  }

  find(jobId: string, index: number): Promise<EmbeddingChunk | null> {
    return this.db.embeddingChunk.findUnique({ where: { id: chunkRowId(jobId, index) } });
  }

  /** pending|running → running, counting the attempt; null when the chunk is already final. */
  async claim(jobId: string, index: number): Promise<EmbeddingChunk | null> {
    if (this.pool) {
      const { rows } = await this.pool.query(
        "UPDATE embedding_chunks SET status = 'running', attempts = attempts + 1, updated_at = $2 WHERE id = $1 AND status IN ('pending', 'running') RETURNING *",
        [chunkRowId(jobId, index), new Date()],
      );
      return rows[0] ? chunkFromRow(rows[0]) : null;
    }
    const [row] = await this.db.embeddingChunk.updateManyAndReturn({
      where: { id: chunkRowId(jobId, index), status: { in: OPEN } },
      data: { status: 'running', attempts: { increment: 1 }, updatedAt: new Date() },
    });
    return row ?? null;
  }

  /** Takes back the claim of a run that sent nothing (its gateway lane held it back): `attempts` counts tries. */
  async returnAttempt(jobId: string, index: number): Promise<void> {
    await this.db.embeddingChunk.updateMany({ where: { id: chunkRowId(jobId, index), attempts: { gt: 0 } }, data: { attempts: { decrement: 1 } } });
  }

  async markSucceeded(jobId: string, index: number, result: { resultKey: string; promptTokens: number; totalTokens: number }): Promise<boolean> {
    if (this.pool) {
      const { rowCount } = await this.pool.query(
        `UPDATE embedding_chunks SET status = 'succeeded', result_key = $2, prompt_tokens = $3, total_tokens = $4, error = NULL, updated_at = $5
          WHERE id = $1 AND status IN ('pending', 'running')`,
        [chunkRowId(jobId, index), result.resultKey, result.promptTokens, result.totalTokens, new Date()],
      );
      return rowCount === 1;
    }
    const { count } = await this.db.embeddingChunk.updateMany({
      where: { id: chunkRowId(jobId, index), status: { in: OPEN } },
      data: { status: 'succeeded', ...result, error: Prisma.DbNull, updatedAt: new Date() },
    });
    return count === 1;
  }

  async markFailed(jobId: string, index: number, error: unknown): Promise<boolean> {
    const { count } = await this.db.embeddingChunk.updateMany({
      where: { id: chunkRowId(jobId, index), status: { in: OPEN } },
      data: { status: 'failed', error: asJson(error), updatedAt: new Date() },
    });
    return count === 1;
  }

  /** Cancels every chunk not yet final; answers the indexes it canceled. */
  async cancelOpen(jobId: string): Promise<number[]> {
    const rows = await this.db.embeddingChunk.updateManyAndReturn({
      where: { jobId, status: { in: OPEN } },
      data: { status: 'canceled', updatedAt: new Date() },
      select: { index: true },
    });
    return rows.map((r) => r.index);
  }

  /** Indexes of chunks not yet final, optionally within [from, to] (a re-run enqueues them again). */
  async openIndexes(jobId: string, range?: { from: number; to: number }): Promise<number[]> {
    const rows = await this.db.embeddingChunk.findMany({
      where: { jobId, status: { in: OPEN }, ...(range ? { index: { gte: range.from, lte: range.to } } : {}) },
      select: { index: true },
      orderBy: { index: 'asc' },
    });
    return rows.map((r) => r.index);
  }

  async counts(jobId: string): Promise<ChunkCounts> {
    if (this.pool) {
      const { rows } = await this.pool.query<{ total: number; finished: number }>(
        `SELECT count(*)::int AS total, (count(*) FILTER (WHERE status = ANY($2::text[])))::int AS finished FROM embedding_chunks WHERE job_id = $1`,
        [jobId, FINAL_CHUNK_STATUSES],
      );
      return { total: rows[0]?.total ?? 0, finished: rows[0]?.finished ?? 0 };
    }
    const groups = await this.db.embeddingChunk.groupBy({ by: ['status'], where: { jobId }, _count: { _all: true } });
    let total = 0;
    let finished = 0;
    for (const g of groups) {
      total += g._count._all;
      if ((FINAL_CHUNK_STATUSES as readonly string[]).includes(g.status)) finished += g._count._all;
    }
    return { total, finished };
  }

  /** Chunks in input order, a page at a time (a million-input batch has thousands). */
  listPage(jobId: string, afterIndex: number, take: number): Promise<EmbeddingChunk[]> {
    return this.db.embeddingChunk.findMany({ where: { jobId, index: { gt: afterIndex } }, orderBy: { index: 'asc' }, take });
  }
}
