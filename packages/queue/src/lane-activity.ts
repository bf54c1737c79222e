import type { Redis } from 'ioredis';

/** WARNING: a persisted key shared by workers (writers) and the API (reader): hash queue name → epoch ms. */
export const laneActivityKey = (prefix: string): string => `${prefix}:lane-activity`;

/** A worker writes at most once per queue per this long, so taking a job costs no extra round trip. */
const TOUCH_EVERY_MS = 5_000;

/**
 * When a worker last took a job from each queue, so the admin overview can warn about a queue that
 * has work and no consumer. Best effort: a failed write is dropped (the next job writes again).
 */
export class LaneActivity {
  private readonly lastWrittenMs = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Notes that this process just took a job from `queueName` (throttled). */
  touch(queueName: string, nowMs = Date.now()): void {
    const last = this.lastWrittenMs.get(queueName) ?? 0;
    if (nowMs - last < TOUCH_EVERY_MS) return;
    this.lastWrittenMs.set(queueName, nowMs);
    this.redis.hset(laneActivityKey(this.prefix), queueName, String(nowMs)).catch(() => undefined);
  }

  /** The last time any worker took a job, per queue name (epoch ms). */
  async read(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(laneActivityKey(this.prefix));
    return Object.fromEntries(Object.entries(raw).map(([queue, ms]) => [queue, Number(ms)]));
  }
}
