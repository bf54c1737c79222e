/** What one embeddings request carried (no texts or vectors: a million-input batch must stay cheap). */
export type EmbeddingRequestRecord = {
  route: 'embeddings' | 'gemini.embed';
  requestId: string;
  atMs: number;
  model: string;
  inputs: number;
  tokens: number;
  dimensions: number;
  /** `float` / `base64` on the OpenAI route, `gemini` on the native one. */
  encoding: 'float' | 'base64' | 'gemini';
  status: number;
  /** Why the request failed on purpose, when it did. */
  failure?: 'fail_chunk' | 'fail_once';
};

export type EmbeddingTotals = { requests: number; succeeded: number; failed: number; inputs: number; embedded: number; tokens: number };

/** Totals of every embeddings request, plus the most recent `keep` records. */
export class EmbeddingLog {
  private records: EmbeddingRequestRecord[] = [];
  private failedOnce = new Set<string>();
  private totalsValue: EmbeddingTotals = emptyTotals();

  constructor(private readonly keep = 1000) {}

  /** Records a request that reached the embeddings handler (after auth, limits and faults). */
  add(record: EmbeddingRequestRecord): void {
    const t = this.totalsValue;
    t.requests += 1;
    t.inputs += record.inputs;
    if (record.status >= 200 && record.status < 300) {
      t.succeeded += 1;
      t.embedded += record.inputs;
      t.tokens += record.tokens;
    } else {
      t.failed += 1;
    }
    this.records.push(record);
    if (this.records.length > this.keep * 2) this.records = this.records.slice(-this.keep);
  }

  /** True the first time `fingerprint` is offered, false afterwards (for `FAIL_ONCE`). */
  isFirstFailure(fingerprint: string): boolean {
    if (this.failedOnce.has(fingerprint)) return false;
    this.failedOnce.add(fingerprint);
    return true;
  }

  totals(): EmbeddingTotals {
    return { ...this.totalsValue };
  }

  recent(limit = this.keep): EmbeddingRequestRecord[] {
    const count = Math.min(Math.floor(limit), this.keep);
    return count > 0 ? this.records.slice(-count) : [];
  }

  reset(): void {
    this.records = [];
    this.failedOnce.clear();
    this.totalsValue = emptyTotals();
  }
}

const emptyTotals = (): EmbeddingTotals => ({ requests: 0, succeeded: 0, failed: 0, inputs: 0, embedded: 0, tokens: 0 });
