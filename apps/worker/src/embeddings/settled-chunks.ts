import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_CHUNK_STATUSES, type EmbeddingChunk, type EmbeddingChunksRepository } from '@genqueue/db';

/** Chunk rows read at a time (a million-input batch has a thousand or more). */
const PAGE = 100;
/** How often the row of the next chunk in order is looked at again while it runs. */
const DEFAULT_POLL_MS = 200;

export type SettledChunksOptions = {
  /** ends the wait for a chunk still running (shutdown, cancel, deadline) */
  signal?: AbortSignal;
  pollMs?: number;
  /** run every `everyMs` while the wait lasts (a check for chunks whose queue jobs were lost) */
  whileWaiting?: { everyMs: number; check: () => Promise<void> };
};

const isFinal = (status: string): boolean => (FINAL_CHUNK_STATUSES as readonly string[]).includes(status);

/**
 * The chunk rows of a batch in index order, each once it is final: a chunk still running is waited
 * for (its row looked at again every `pollMs`), so the rows before it can be used while it runs.
 * Every row of the batch exists once it is `chunked`; holds one page of rows at a time.
 */
export async function* settledChunks(
  jobId: string,
  chunks: Pick<EmbeddingChunksRepository, 'listPage'>,
  options: SettledChunksOptions = {},
): AsyncGenerator<EmbeddingChunk> {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let waitingSince: number | null = null;
  for (let after = -1; ; ) {
    const rows = await chunks.listPage(jobId, after, PAGE);
    if (rows.length === 0) return;
    let isWaiting = false;
    let progressed = false;
    for (const row of rows) {
      if (!isFinal(row.status)) {
        isWaiting = true;
        break;
      }
      yield row;
      after = row.index;
      progressed = true;
    }
    if (progressed) waitingSince = null;
    if (!isWaiting) continue;
    waitingSince ??= Date.now();
    if (options.whileWaiting && Date.now() - waitingSince >= options.whileWaiting.everyMs) {
      await options.whileWaiting.check();
      waitingSince = Date.now();
    }
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
  }
}
