import type { MjTask, UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';

export type MjPollOptions = {
  /** ids per list-by-condition request */
  batchSize: number;
  /** how long a waking job waits for others to share its request */
  windowMs: number;
  /** a cached answer younger than this serves a waking job without any request */
  freshMs: number;
  /** a registered task whose job has not asked for this long is dropped (its job moved to another worker) */
  forgetAfterMs: number;
};

type Waiter = { resolve: (task: MjTask | null) => void; reject: (err: unknown) => void };
type Entry = { jobId: string; lastAskedAt: number; polledAt: number; task: MjTask | null; hasAnswer: boolean };

/**
 * One per worker process: every MJ status read goes through here, so N tasks in flight cost about
 * N / batchSize `list-by-condition` requests per poll round instead of N fetches.
 *
 * A parked MJ job wakes (BullMQ delayed job), asks for its task, and waits up to `windowMs` for
 * other waking jobs. The request then carries every waiting id plus, up to `batchSize`, the other
 * tasks this process knows that are due, so their next wake is answered from the cache without
 * any request. When a piggybacked task's status changes (done, failed, MODAL), its job is woken at
 * once through `wake`. Nothing is only in memory: after a restart each parked job wakes on its own
 * schedule and registers again; the registry is only an optimisation.
 */
export class MjPollCoordinator {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Map<string, Waiter[]>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** list-by-condition requests made, and ids they carried (for benches and logs) */
  readonly stats = { requests: 0, ids: 0, cacheHits: 0 };

  constructor(
    private readonly upstream: Pick<UpstreamClient, 'mj'>,
    private readonly options: MjPollOptions,
    /** wakes a parked job now (promotes its delayed BullMQ entry) */
    private readonly wake: (jobId: string) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The task as the gateway reports it now (null: the gateway does not know the id). */
  status(taskId: string, jobId: string): Promise<MjTask | null> {
    const at = this.now();
    let entry = this.entries.get(taskId);
    if (!entry) {
      entry = { jobId, lastAskedAt: at, polledAt: 0, task: null, hasAnswer: false };
      this.entries.set(taskId, entry);
    }
    entry.jobId = jobId;
    entry.lastAskedAt = at;
    if (entry.hasAnswer && at - entry.polledAt < this.options.freshMs) {
      this.stats.cacheHits += 1;
      return Promise.resolve(entry.task);
    }
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(taskId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(taskId, list);
      this.schedule();
    });
  }

  /** The job ended: stop polling its task here. */
  release(taskId: string): void {
    this.entries.delete(taskId);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.waiters.size > 0) this.schedule();
      });
    }, this.options.windowMs);
  }

  private async flush(): Promise<void> {
    const waiting = new Map(this.waiters);
    this.waiters.clear();
    const at = this.now();
    const ids = [...waiting.keys()];
    // fill the last batch with other known tasks that are due, so their next wake costs nothing
    const room = (this.options.batchSize - (ids.length % this.options.batchSize)) % this.options.batchSize;
    const extra: string[] = [];
    for (const [taskId, entry] of this.entries) {
      if (extra.length >= room) break;
      if (at - entry.lastAskedAt > this.options.forgetAfterMs) {
        this.entries.delete(taskId);
        continue;
      }
      if (!waiting.has(taskId) && at - entry.polledAt >= this.options.freshMs) extra.push(taskId);
    }
    const all = [...ids, ...extra];
    const batches: string[][] = [];
    for (let i = 0; i < all.length; i += this.options.batchSize) batches.push(all.slice(i, i + this.options.batchSize));
    await Promise.all(batches.map((batch) => this.pollBatch(batch, waiting, at)));
  }

  private async pollBatch(batch: string[], waiting: Map<string, Waiter[]>, at: number): Promise<void> {
    this.stats.requests += 1;
    this.stats.ids += batch.length;
    let tasks: MjTask[];
    try {
      tasks = await this.upstream.mj.listByCondition(batch, { batchSize: this.options.batchSize });
    } catch (err) {
      for (const id of batch) for (const w of waiting.get(id) ?? []) w.reject(err);
      return;
    }
    const byId = new Map(tasks.map((t) => [t.id, t]));
    for (const id of batch) {
      const task = byId.get(id) ?? null;
      const entry = this.entries.get(id);
      if (entry) {
        const changed = entry.hasAnswer && !waiting.has(id) && (entry.task?.rawStatus ?? null) !== (task?.rawStatus ?? null);
        entry.task = task;
        entry.hasAnswer = true;
        entry.polledAt = at;
        if (changed) {
          this.logger.debug({ taskId: id, jobId: entry.jobId, status: task?.rawStatus }, 'mj.poll.wake');
          this.wake(entry.jobId);
        }
      }
      for (const w of waiting.get(id) ?? []) w.resolve(task);
    }
  }
}
