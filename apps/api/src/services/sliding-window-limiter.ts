import type { Redis } from 'ioredis';

const WINDOW_MS = 60_000;

/**
 * A sliding one-minute window from two fixed ones: the count of the current minute plus the
 * previous minute's weighted by how much of it still lies inside the last 60 s. Checked and taken
 * in one script, so concurrent requests on any API instance cannot both take the last unit.
 * Answers {allowed, used (before this take, rounded down), retry_after_ms (-1: never fits)}.
 */
const TAKE_SCRIPT = `
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = prev * (window - elapsed) / window + curr
if used + cost <= limit then
  redis.call('INCRBY', KEYS[1], cost)
  redis.call('PEXPIRE', KEYS[1], window * 2 + 1000)
  return {1, math.floor(used), 0}
end
if cost > limit then return {0, math.floor(used), -1} end
local room = limit - curr - cost
local wait
if room >= 0 and prev > 0 then
  -- fits later in this minute, once enough of the previous one has slid out
  wait = window * (1 - room / prev) - elapsed
else
  -- fits in the next minute, once enough of this one has slid out
  wait = (window - elapsed) + window * (1 - (limit - cost) / curr)
end
return {0, math.floor(used), math.ceil(wait)}
`;

type TakeCommand = { gqWindowTake(currentKey: string, previousKey: string, ...args: Array<string | number>): Promise<unknown> };

/** The script as a command of the connection: sent once, then run by its SHA (ioredis falls back on NOSCRIPT). */
function withTakeCommand(redis: Redis): TakeCommand {
  const client = redis as Redis & Partial<TakeCommand>;
  if (!client.gqWindowTake) redis.defineCommand('gqWindowTake', { numberOfKeys: 2, lua: TAKE_SCRIPT });
  return client as Redis & TakeCommand;
}

export type Take = { allowed: boolean; used: number; retryAfterSec: number | null };

/** Sliding-window counters in Redis, shared by every API instance. */
export class SlidingWindowLimiter {
  constructor(private readonly redis: Redis) {}

  /**
   * Takes `cost` units of `key`'s `limit` per minute, or none when they do not fit. Null while Redis
   * is unreachable: callers let the request through (the row is the truth, not the counter).
   */
  async take(key: string, limit: number, cost: number): Promise<Take | null> {
    if (this.redis.status !== 'ready') return null;
    const now = Date.now();
    const minute = Math.floor(now / WINDOW_MS);
    // both minutes of a key in one Redis Cluster slot: the script reads them together
    const tagged = `{${key}}`;
    try {
      const [allowed, used, waitMs] = (await withTakeCommand(this.redis).gqWindowTake(
        `${tagged}:${minute}`,
        `${tagged}:${minute - 1}`,
        limit,
        cost,
        now - minute * WINDOW_MS,
        WINDOW_MS,
      )) as [number, number, number];
      return { allowed: allowed === 1, used, retryAfterSec: waitMs < 0 ? null : Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch {
      return null;
    }
  }
}
