import { AppError, newId } from '@genqueue/core';
import type { Job, JobListFilter, JobQueries, JobsRepository } from '@genqueue/db';
import { assertRedisReady } from '@genqueue/queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { JobActions } from './job-actions';

export type BulkActionKind = 'cancel' | 'retry';

/**
 * Progress of one bulk action, as the API answers it. `matched`: the distinct ids given, or the
 * jobs the filter matched when the action started; `skipped`: ids that name no job, and jobs whose
 * status did not allow the change (or changed under us). `interrupted`: the API process stopped
 * before it was through.
 */
export const BulkActionSchema = z.object({
  object: z.literal('bulk_action'),
  id: z.string(),
  action: z.enum(['cancel', 'retry']),
  status: z.enum(['running', 'done', 'interrupted']),
  matched: z.int(),
  processed: z.int(),
  changed: z.int(),
  skipped: z.int(),
});
export type BulkActionView = z.output<typeof BulkActionSchema>;

/** Jobs read per page of a filter (keyset), and the cadence of progress writes. */
const PAGE = 500;
const SAVE_EVERY = 50;
/** Jobs changed at once: each is its own short transaction, so a few in flight only overlap round trips. */
const IN_FLIGHT = 8;
const KEEP_MS = 24 * 3_600_000;
/** Ids are few (≤ 1000): the request waits this long for them to be done, so the answer is final. */
const ID_WAIT_MS = 5_000;

/**
 * Bulk cancel and retry, worked through in the background of this API process: one job at a time,
 * each through the same guarded transition as the single-job routes (one short transaction per
 * job), so a million-row selection never holds a long transaction or a table lock. Progress is
 * kept in Redis for 24 h, so any API instance can answer it.
 */
export class BulkActions {
  private readonly running = new Set<Promise<void>>();
  private isStopping = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly jobs: Pick<JobsRepository, 'findById'>,
    private readonly jobQueries: Pick<JobQueries, 'list' | 'count'>,
    private readonly actions: Pick<JobActions, 'cancel' | 'retry'>,
    private readonly logger: Logger,
  ) {}

  async startByIds(action: BulkActionKind, ids: readonly string[]): Promise<BulkActionView> {
    const distinct = [...new Set(ids)];
    const view = this.newView(action, distinct.length);
    await this.save(view);
    const done = this.track(view, async (progress) => {
      await this.eachInGroups(distinct, async (id) => {
        const job = await this.jobs.findById(id);
        await progress(job ? await this.apply(action, job) : false);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ID_WAIT_MS)))]);
    clearTimeout(timer);
    return view;
  }

  async startByFilter(action: BulkActionKind, filter: JobListFilter): Promise<BulkActionView> {
    assertRedisReady(this.redis);
    const view = this.newView(action, await this.jobQueries.count(filter));
    await this.save(view);
    void this.track(view, async (progress) => {
      let cursor: string | null = null;
      do {
        if (this.isStopping) return;
        const page = await this.jobQueries.list(filter, PAGE, cursor);
        await this.eachInGroups(page.data, async (job) => progress(await this.apply(action, job)));
        cursor = page.nextCursor;
      } while (cursor);
    });
    return view;
  }

  async get(id: string): Promise<BulkActionView | null> {
    assertRedisReady(this.redis);
    const raw = await this.redis.get(this.keyOf(id));
    return raw ? (JSON.parse(raw) as BulkActionView) : null;
  }

  /** Stops taking further jobs; running actions are saved as interrupted. */
  async close(): Promise<void> {
    this.isStopping = true;
    await Promise.allSettled([...this.running]);
  }

  private newView(action: BulkActionKind, matched: number): BulkActionView {
    return { object: 'bulk_action', id: newId('bulk'), action, status: 'running', matched, processed: 0, changed: 0, skipped: 0 };
  }

  /** Runs `work` in the background, counting each job it reports; saves progress as it goes and at the end. */
  private track(view: BulkActionView, work: (progress: (changed: boolean) => Promise<void>) => Promise<void>): Promise<void> {
    // Saves go one after the other, each with the figures of its moment, so a slow write never
    // overwrites a newer one (jobs are changed a few at a time).
    let saved: Promise<void> = Promise.resolve();
    const saveNow = (): Promise<void> => {
      const snapshot = { ...view };
      saved = saved.then(() => this.save(snapshot)).catch((err: unknown) => this.logger.warn({ err, bulkId: view.id }, 'bulk.progress_not_saved'));
      return saved;
    };
    const progress = async (changed: boolean): Promise<void> => {
      view.processed += 1;
      if (changed) view.changed += 1;
      else view.skipped += 1;
      if (view.processed % SAVE_EVERY === 0) await saveNow();
    };
    const run = work(progress)
      .catch((err: unknown) => this.logger.error({ err, bulkId: view.id }, 'bulk.failed'))
      .then(async () => {
        view.status = this.isStopping ? 'interrupted' : 'done';
        await saveNow();
        this.logger.info({ bulkId: view.id, action: view.action, status: view.status, processed: view.processed, changed: view.changed }, 'bulk.finished');
      });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** Runs `each` over `items`, IN_FLIGHT at a time, until done or the process stops. */
  private async eachInGroups<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
    for (let start = 0; start < items.length; start += IN_FLIGHT) {
      if (this.isStopping) return;
      await Promise.all(items.slice(start, start + IN_FLIGHT).map(each));
    }
  }

  /** One job through the single-job action; false when its status does not allow it. */
  private async apply(action: BulkActionKind, job: Job): Promise<boolean> {
    try {
      if (action === 'cancel') await this.actions.cancel(job);
      else await this.actions.retry(job);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') return false;
      this.logger.warn({ err, jobId: job.id, action }, 'bulk.job_failed');
      return false;
    }
  }

  private keyOf(id: string): string {
    return `${this.prefix}:bulk-action:${id}`;
  }

  private async save(view: BulkActionView): Promise<void> {
    assertRedisReady(this.redis);
    await this.redis.set(this.keyOf(view.id), JSON.stringify(view), 'PX', KEEP_MS);
  }
}
