import { randomBytes } from 'node:crypto';
import type { Job } from '@genqueue/db';
import { classifyAttempt, createGuardedDispatcher, DEFAULT_RETRY_SCHEDULE_MS, nextAttemptDelayMs, sendWebhook, WEBHOOK_TIMEOUT_MS } from '@genqueue/webhooks';
import type { ApiDeps } from '../../deps';
import { MJ_FINAL_STATUSES, rootPromptOf, toMjTask } from './mj-tasks';

type Entry = {
  url: string;
  projectId: string;
  /** `status|progress` last delivered ('' before the first) */
  sent: string;
  /** failed attempts since the last delivery */
  attempts: number;
  /** epoch ms before which no attempt is made */
  nextAt: number;
};

/** How many hooks one tick reads (HSCAN COUNT: a hint; a small hash is read whole). */
const SCAN_COUNT = 500;
/** How many hooks one tick sends at most (the rest wait for the next tick). */
const MAX_SENDS_PER_TICK = 50;
/** Ticks start at least this far apart. */
const MIN_TICK_GAP_MS = 200;
/** A tick holds the lock this long at most (attempts time out after 10 s). */
const LOCK_MS = 30_000;

export type MjNotifierOptions = { intervalMs?: number; retryScheduleMs?: readonly number[] };

/**
 * midjourney-proxy's `notifyHook`: the task object, as `fetch` answers it, POSTed as JSON to the
 * hook on every change of its status or progress, until it is final.
 *
 * Durable and shared by every API process: the hooks of unfinished tasks live in a Redis hash
 * (written at submission), and a tick (every second, and at once when any job changes) compares
 * each task with what was last delivered. One process ticks at a time (a Redis lock), so a change
 * is sent once; a change missed while no API ran is sent by the next tick. A refused or failed
 * attempt is retried on the webhook schedule (5 s, 5 min, 30 min, …) with the task as it is then;
 * 410 Gone stops the hook. Requests go through the SSRF-guarded dispatcher (ALLOW_PRIVATE_URLS).
 */
export class MjNotifier {
  private readonly key: string;
  private readonly lockKey: string;
  private readonly dispatcher;
  private readonly intervalMs: number;
  private readonly schedule: readonly number[];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private lastTickAt = 0;
  /** where the next tick's HSCAN goes on */
  private cursor = '0';
  private delayed: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: ApiDeps,
    options: MjNotifierOptions = {},
  ) {
    this.key = `${deps.settings.QUEUE_PREFIX}:compat:mj-notify`;
    this.lockKey = `${this.key}:lock`;
    this.dispatcher = createGuardedDispatcher({ allowPrivate: deps.settings.allowPrivateUrls });
    this.intervalMs = options.intervalMs ?? 1_000;
    this.schedule = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.deps.anyJobSignal.listen(() => this.kick());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.delayed) clearTimeout(this.delayed);
    this.timer = null;
    this.delayed = null;
  }

  /** Called once the job is stored; a replayed submission keeps the state it has. */
  async register(jobId: string, projectId: string, url: string): Promise<void> {
    const entry: Entry = { url, projectId, sent: '', attempts: 0, nextAt: 0 };
    await this.deps.redis.hsetnx(this.key, jobId, JSON.stringify(entry));
    this.kick();
  }

  /**
   * Runs a tick now, or once the running one ends; at most one every MIN_TICK_GAP_MS (a busy
   * system changes jobs thousands of times a second, and each change wakes this).
   */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.lastTickAt + MIN_TICK_GAP_MS - Date.now();
    if (wait > 0) {
      if (!this.delayed) {
        this.delayed = setTimeout(() => {
          this.delayed = null;
          this.kick();
        }, wait);
        this.delayed.unref();
      }
      return;
    }
    this.lastTickAt = Date.now();
    this.running = true;
    this.tick()
      .catch((err: unknown) => this.deps.logger.debug({ err }, 'mj_notify.tick_failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const redis = this.deps.redis;
    if (redis.status !== 'ready' || (await redis.hlen(this.key)) === 0) return;
    const token = randomBytes(8).toString('hex');
    if ((await redis.set(this.lockKey, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return;
    try {
      // a slice of the hooks per tick (all of them while there are few): HSCAN goes round the hash
      const [next, flat] = await redis.hscan(this.key, this.cursor, 'COUNT', SCAN_COUNT);
      this.cursor = next;
      const entries: Array<readonly [string, Entry]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        try {
          entries.push([flat[i]!, JSON.parse(flat[i + 1]!) as Entry]);
        } catch {
          await redis.hdel(this.key, flat[i]!);
        }
      }
      if (entries.length === 0) return;
      const jobs = await this.deps.prisma.job.findMany({ where: { id: { in: entries.map(([id]) => id) } } });
      const byId = new Map(jobs.map((job) => [job.id, job]));
      const views = new Map((await this.deps.views.many(jobs)).map((view) => [view.id, view]));
      const now = Date.now();
      const due: Array<{ jobId: string; entry: Entry; job: Job }> = [];
      for (const [jobId, entry] of entries) {
        const job = byId.get(jobId);
        if (!job) {
          await redis.hdel(this.key, jobId);
          continue;
        }
        if (entry.nextAt <= now && due.length < MAX_SENDS_PER_TICK) due.push({ jobId, entry, job });
      }
      await Promise.all(
        due.map(async ({ jobId, entry, job }) => {
          const task = toMjTask(job, views.get(jobId)!, await rootPromptOf(job, (id) => this.deps.jobs.findById(id)));
          const fingerprint = `${task.status}|${task.progress}`;
          const final = MJ_FINAL_STATUSES.includes(task.status);
          if (fingerprint === entry.sent) {
            if (final) await redis.hdel(this.key, jobId);
            return;
          }
          await this.send(jobId, entry, JSON.stringify(task), fingerprint, final);
        }),
      );
    } finally {
      if ((await redis.get(this.lockKey)) === token) await redis.del(this.lockKey);
    }
  }

  private async send(jobId: string, entry: Entry, body: string, fingerprint: string, final: boolean): Promise<void> {
    const redis = this.deps.redis;
    const result = await sendWebhook({
      url: entry.url,
      headers: { 'content-type': 'application/json', 'user-agent': 'genqueue-mj-notify/1' },
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      dispatcher: this.dispatcher,
    });
    const outcome = classifyAttempt(result);
    const log = { jobId, url: entry.url, statusCode: result.statusCode, error: result.error, status: fingerprint };
    if (outcome === 'delivered') {
      this.deps.logger.info(log, 'mj_notify.delivered');
      if (final) await redis.hdel(this.key, jobId);
      else await redis.hset(this.key, jobId, JSON.stringify({ ...entry, sent: fingerprint, attempts: 0, nextAt: 0 }));
      return;
    }
    if (outcome === 'gone') {
      this.deps.logger.info(log, 'mj_notify.gone');
      await redis.hdel(this.key, jobId);
      return;
    }
    const attempts = entry.attempts + 1;
    const delay = nextAttemptDelayMs(attempts, this.schedule);
    if (delay === null) {
      this.deps.logger.warn({ ...log, attempts }, 'mj_notify.given_up');
      await redis.hdel(this.key, jobId);
      return;
    }
    this.deps.logger.info({ ...log, attempts }, 'mj_notify.retry');
    await redis.hset(this.key, jobId, JSON.stringify({ ...entry, attempts, nextAt: Date.now() + delay }));
  }
}
