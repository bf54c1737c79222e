import { EMBEDDING_REQUEST_TOKEN_BUDGET, estimateEmbeddingTokens, GEMINI_MAX_BATCH, isGeminiModel } from '@genqueue/core';

/** OpenAI's most inputs per request. */
const OPENAI_MAX_BATCH = 2_048;

export type PlannedChunk = { index: number; firstInput: number; lines: string[] };

/**
 * Cuts a stream of inputs into requests: at most `chunkSize` inputs (and the API's own maximum)
 * and at most `tokenBudget` estimated tokens each. Holds one chunk at a time.
 */
export class ChunkPlanner {
  private readonly maxInputs: number;
  private lines: string[] = [];
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
    if (this.lines.length > 0 && this.tokens + tokens > this.tokenBudget) closed = this.close();
    if (this.lines.length === 0) this.firstInput = this.seen;
    this.lines.push(line);
    this.tokens += tokens;
    this.seen += 1;
    if (this.lines.length >= this.maxInputs) {
      if (closed) throw new Error('a chunk closed twice for one input'); // cannot happen: maxInputs >= 1
      closed = this.close();
    }
    return closed;
  }

  /** The last, partial chunk. */
  finish(): PlannedChunk | null {
    return this.lines.length > 0 ? this.close() : null;
  }

  get inputCount(): number {
    return this.seen;
  }

  private close(): PlannedChunk {
    const chunk = { index: this.nextIndex, firstInput: this.firstInput, lines: this.lines };
    this.nextIndex += 1;
    this.lines = [];
    this.tokens = 0;
    return chunk;
  }
}
