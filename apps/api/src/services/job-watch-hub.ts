/** What the hub reads of a watched job. */
export type WatchedJobState = { id: string; status: string; eventSeq: number };

type Watch = { jobId: string; seq: number; onChange: (state: WatchedJobState | null) => void };

/** The newest event id of a project (null: it has none). */
export type ProjectEventHead = { projectId: string; lastEventId: string | null };

/** `undefined` head: not read yet (the first poll wakes the watcher once, so nothing slips in before it). */
type ProjectWatch = { projectId: string; head: string | null | undefined; onChange: () => void };

/** ids per query: one statement even with thousands of watchers, but never an unbounded IN list */
const IDS_PER_QUERY = 1000;

/**
 * One poller per API process for every job a `?wait` or an SSE stream is watching, and every
 * project a `GET /v1/events` stream follows. Redis signals wake those at once; this is the backstop
 * for a missed signal (Redis down, a restart), and it costs one batched query per kind per
 * interval whatever the number of watchers, instead of one query per connection per interval.
 */
export class JobWatchHub {
  private readonly watches = new Set<Watch>();
  private readonly projectWatches = new Set<ProjectWatch>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** Postgres reads made by the hub so far (exposed in /metrics) */
  reads = 0;

  constructor(
    /** status and event_seq of the jobs with these ids (missing ones are deleted) */
    private readonly readStates: (ids: string[]) => Promise<WatchedJobState[]>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    /** the newest event id of each of these projects (for `watchProject`) */
    private readonly readProjectHeads: (projectIds: string[]) => Promise<ProjectEventHead[]> = async () => [],
  ) {}

  /**
   * Calls `onChange` whenever the job's event_seq moves past `seq` (or the job is gone), as seen by
   * the next poll. Answers the unwatch.
   */
  watch(jobId: string, seq: number, onChange: (state: WatchedJobState | null) => void): () => void {
    const watch: Watch = { jobId, seq, onChange };
    this.watches.add(watch);
    this.startTimer();
    return () => {
      this.watches.delete(watch);
      this.stopTimerIfIdle();
    };
  }

  /**
   * Calls `onChange` whenever the project's newest event id changes, as seen by the next poll (and
   * once at the first poll). Answers the unwatch.
   */
  watchProject(projectId: string, onChange: () => void): () => void {
    const watch: ProjectWatch = { projectId, head: undefined, onChange };
    this.projectWatches.add(watch);
    this.startTimer();
    return () => {
      this.projectWatches.delete(watch);
      this.stopTimerIfIdle();
    };
  }

  get watching(): number {
    return this.watches.size + this.projectWatches.size;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private stopTimerIfIdle(): void {
    if (this.watches.size === 0 && this.projectWatches.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** One pass: read every watched job and project, wake the watchers whose job or project moved. */
  async poll(): Promise<void> {
    if (this.polling || (this.watches.size === 0 && this.projectWatches.size === 0)) return;
    this.polling = true;
    try {
      await this.pollJobs();
      await this.pollProjects();
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
    }
  }

  private async pollProjects(): Promise<void> {
    if (this.projectWatches.size === 0) return;
    const ids = [...new Set([...this.projectWatches].map((w) => w.projectId))];
    const heads = new Map<string, string | null>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      this.reads += 1;
      for (const head of await this.readProjectHeads(ids.slice(i, i + IDS_PER_QUERY))) heads.set(head.projectId, head.lastEventId);
    }
    for (const watch of [...this.projectWatches]) {
      if (!this.projectWatches.has(watch)) continue;
      const head = heads.get(watch.projectId) ?? null;
      if (head === watch.head) continue;
      watch.head = head;
      watch.onChange();
    }
  }

  private async pollJobs(): Promise<void> {
    if (this.watches.size === 0) return;
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
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watches.clear();
    this.projectWatches.clear();
  }
}
