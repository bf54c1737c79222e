import { EMBEDDING_REQUEST_TOKEN_BUDGET, estimateEmbeddingTokens, GEMINI_MAX_BATCH, isGeminiModel } from '@genqueue/core';

/** OpenAI's most inputs per request. */
const OPENAI_MAX_BATCH = 2_048;

/** A chunk's input file: `inputCount` lines as UTF-8 bytes. */
export type PlannedChunk = { index: number; firstInput: number; inputCount: number; bytes: Buffer };

/** First size of the buffer a chunk's lines gather in; it doubles as needed and is kept for the next chunk. */
const INITIAL_CHUNK_BYTES = 64 * 1024;

/**
 * Cuts a stream of inputs into requests: at most `chunkSize` inputs (and the API's own maximum)
 * and at most `tokenBudget` estimated tokens each. Holds one chunk at a time, as bytes in one reused
 * buffer: a line's string dies as soon as it is copied in, so a split of a million inputs leaves no
 * strings for the old generation to collect (holding them as strings until the chunk closed had the
 * worker's heap peak at four times its live size).
 */
export class ChunkPlanner {
  private readonly maxInputs: number;
  private buffer = Buffer.allocUnsafe(INITIAL_CHUNK_BYTES);
  private used = 0;
  private count = 0;
  private tokens = 0;
  private firstInput = 0;
  private nextIndex = 0;
  private seen = 0;

  constructor(model: string, chunkSize: number, private readonly tokenBudget = EMBEDDING_REQUEST_TOKEN_BUDGET) {
    this.maxInputs = Math.max(1, Math.min(chunkSize, isGeminiModel(model) ? GEMINI_MAX_BATCH : OPENAI_MAX_BATCH));
  }

  /** Adds one input; answers the chunk it closed, if any. */
  push(line: string, text: string): PlannedChunk | null {
    const tokens = estimateEmbeddingTokens(text);
    let closed: PlannedChunk | null = null;
    if (this.count > 0 && this.tokens + tokens > this.tokenBudget) closed = this.close();
    if (this.count === 0) this.firstInput = this.seen;
    this.append(line);
    this.count += 1;
    this.tokens += tokens;
    this.seen += 1;
    if (this.count >= this.maxInputs) {
      if (closed) throw new Error('a chunk closed twice for one input'); // cannot happen: maxInputs >= 1
      closed = this.close();
    }
    return closed;
  }

  /** The last, partial chunk. */
  finish(): PlannedChunk | null {
    return this.count > 0 ? this.close() : null;
  }

  get inputCount(): number {
    return this.seen;
  }

  private append(line: string): void {
    const needed = this.used + Buffer.byteLength(line, 'utf8');
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
  }

  private close(): PlannedChunk {
    // a copy: the buffer gathers the next chunk while this one is stored
    const chunk = { index: this.nextIndex, firstInput: this.firstInput, inputCount: this.count, bytes: Buffer.from(this.buffer.subarray(0, this.used)) };
    this.nextIndex += 1;
    this.used = 0;
    this.count = 0;
    this.tokens = 0;
    return chunk;
  }
}
