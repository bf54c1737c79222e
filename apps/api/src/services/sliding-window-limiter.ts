import type { Redis } from 'ioredis';

const WINDOW_MS = 60_000;

/**
 * Sliding one-minute windows from two fixed ones: the count of the current minute plus the
 * previous minute's weighted by how much of it still lies inside the last 60 s. Checked and taken
 * in one script, so concurrent requests on any API instance cannot both take the last unit.
 * Takes the windows in order (KEYS: current and previous minute of each; ARGV: elapsed, window,
 * then limit and cost of each) and stops at the first that refuses; what was taken before stays.
 * Answers {allowed, used (before this take, rounded down), retry_after_ms (-1: never fits)} per
 * window taken or refused.
 */
const TAKE_SCRIPT = `
local elapsed = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS / 2 do
  local limit = tonumber(ARGV[1 + 2 * i])
  local cost = tonumber(ARGV[2 + 2 * i])
  local curr = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local used = prev * (window - elapsed) / window + curr
  if used + cost <= limit then
    redis.call('INCRBY', KEYS[2 * i - 1], cost)
    redis.call('PEXPIRE', KEYS[2 * i - 1], window * 2 + 1000)
    table.insert(out, {1, math.floor(used), 0})
  else
    if cost > limit then
      table.insert(out, {0, math.floor(used), -1})
      return out
    end
    local room = limit - curr - cost
    local wait
    if room >= 0 and prev > 0 then
      -- fits later in this minute, once enough of the previous one has slid out
      wait = window * (1 - room / prev) - elapsed
    else
      -- fits in the next minute, once enough of this one has slid out
      wait = (window - elapsed) + window * (1 - (limit - cost) / curr)
    end
    table.insert(out, {0, math.floor(used), math.ceil(wait)})
    return out
  end
end
return out
`;

type TakeCommand = { gqWindowsTake(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown> };

/** The script as a command of the connection: sent once, then run by its SHA (ioredis falls back on NOSCRIPT). */
function withTakeCommand(redis: Redis): TakeCommand {
  const client = redis as Redis & Partial<TakeCommand>;
  // the number of keys varies (two per window): given with each call
  if (!client.gqWindowsTake) redis.defineCommand('gqWindowsTake', { lua: TAKE_SCRIPT });
  return client as Redis & TakeCommand;
}

export type Take = { allowed: boolean; used: number; retryAfterSec: number | null };

/** One window to take from: `key` is the counters' base name, with its Redis Cluster hash tag. */
export type WindowTake = { key: string; limit: number; cost: number };

/** Sliding-window counters in Redis, shared by every API instance. */
export class SlidingWindowLimiter {
  constructor(private readonly redis: Redis) {}

  /**
   * Takes `cost` units of `key`'s `limit` per minute, or none when they do not fit. Null while Redis
   * is unreachable: callers let the request through (the row is the truth, not the counter).
   */
  async take(key: string, limit: number, cost: number): Promise<Take | null> {
    // both minutes of a key in one Redis Cluster slot: the script reads them together
    const takes = await this.takeInOrder([{ key: `{${key}}`, limit, cost }]);
    return takes?.[0] ?? null;
  }

  /**
   * `take` of several windows in one round trip (their keys must share a hash tag): each in order,
   * up to the first that refuses (the last answer then); what the earlier ones took stays taken.
   */
  async takeInOrder(windows: readonly WindowTake[]): Promise<Take[] | null> {
    if (this.redis.status !== 'ready') return null;
    const now = Date.now();
    const minute = Math.floor(now / WINDOW_MS);
    const keys = windows.flatMap((w) => [`${w.key}:${minute}`, `${w.key}:${minute - 1}`]);
    const args = windows.flatMap((w) => [w.limit, w.cost]);
    try {
      const answers = (await withTakeCommand(this.redis).gqWindowsTake(keys.length, ...keys, now - minute * WINDOW_MS, WINDOW_MS, ...args)) as Array<[number, number, number]>;
      return answers.map(([allowed, used, waitMs]) => ({ allowed: allowed === 1, used, retryAfterSec: waitMs < 0 ? null : Math.max(1, Math.ceil(waitMs / 1000)) }));
    } catch {
      return null;
    }
  }
}
