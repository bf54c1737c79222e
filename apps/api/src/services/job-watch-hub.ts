/** What the hub reads of a watched job. */
export type WatchedJobState = { id: string; status: string; eventSeq: number };

type Watch = { jobId: string; seq: number; onChange: (state: WatchedJobState | null) => void };

/** ids per query: one statement even with thousands of watchers, but never an unbounded IN list */
const IDS_PER_QUERY = 1000;

/**
 * One poller per API process for every job a `?wait` or an SSE stream is watching. Redis signals
 * wake those at once; this is the backstop for a missed signal (Redis down, a restart), and it
 * costs one batched query per interval whatever the number of watchers, instead of one query per
 * connection per interval.
 */
export class JobWatchHub {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** Postgres reads made by the hub so far (exposed in /metrics) */
  reads = 0;

  constructor(
    /** status and event_seq of the jobs with these ids (missing ones are deleted) */
    private readonly readStates: (ids: string[]) => Promise<WatchedJobState[]>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Calls `onChange` whenever the job's event_seq moves past `seq` (or the job is gone), as seen by
   * the next poll. Answers the unwatch.
   */
  watch(jobId: string, seq: number, onChange: (state: WatchedJobState | null) => void): () => void {
    const watch: Watch = { jobId, seq, onChange };
    this.watches.add(watch);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.watches.delete(watch);
      if (this.watches.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  get watching(): number {
    return this.watches.size;
  }

  /** One pass: read every watched job, wake the watchers whose job moved. */
  async poll(): Promise<void> {
    if (this.polling || this.watches.size === 0) return;
    this.polling = true;
    try {
      const ids = [...new Set([...this.watches].map((w) => w.jobId))];
      const states = new Map<string, WatchedJobState>();
      for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
        this.reads += 1;
        for (const state of await this.readStates(ids.slice(i, i + IDS_PER_QUERY))) states.set(state.id, state);
      }
      for (const watch of [...this.watches]) {
        if (!this.watches.has(watch)) continue;
        const state = states.get(watch.jobId) ?? null;
        if (state && state.eventSeq === watch.seq) continue;
        if (state) watch.seq = state.eventSeq;
        watch.onChange(state);
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watches.clear();
  }
}
