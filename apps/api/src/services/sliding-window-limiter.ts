import { GroupCommit } from '@genqueue/core';
import type { Redis } from 'ioredis';

const WINDOW_MS = 60_000;

/**
 * Sliding one-minute windows from two fixed ones: the count of the current minute plus the
 * previous minute's weighted by how much of it still lies inside the last 60 s. Checked and taken
 * in one script, so concurrent requests on any API instance cannot both take the last unit.
 *
 * One script carries the takes of many requests (all in one Redis Cluster slot), each exactly as if
 * it ran alone, in the order given: a take sees what the takes before it took. A take is its
 * windows in order (KEYS: current and previous minute of each), stopping at the first that refuses;
 * what was taken before stays. ARGV: elapsed, window, the number of takes, then per take its number
 * of windows and the limit and cost of each. Answers per take, per window taken or refused:
 * {allowed, used (before this take, rounded down), retry_after_ms (-1: never fits)}.
 */
const TAKE_SCRIPT = `
local elapsed = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local takes = tonumber(ARGV[3])
local arg = 4
local key = 1
local out = {}
for t = 1, takes do
  local windows = tonumber(ARGV[arg])
  arg = arg + 1
  local answers = {}
  local refused = false
  for i = 1, windows do
    local limit = tonumber(ARGV[arg])
    local cost = tonumber(ARGV[arg + 1])
    local currKey = KEYS[key]
    local prevKey = KEYS[key + 1]
    arg = arg + 2
    key = key + 2
    if not refused then
      local curr = tonumber(redis.call('GET', currKey) or '0')
      local prev = tonumber(redis.call('GET', prevKey) or '0')
      local used = prev * (window - elapsed) / window + curr
      if used + cost <= limit then
        redis.call('INCRBY', currKey, cost)
        redis.call('PEXPIRE', currKey, window * 2 + 1000)
        table.insert(answers, {1, math.floor(used), 0})
      elseif cost > limit then
        refused = true
        table.insert(answers, {0, math.floor(used), -1})
      else
        refused = true
        local room = limit - curr - cost
        local wait
        if room >= 0 and prev > 0 then
          -- fits later in this minute, once enough of the previous one has slid out
          wait = window * (1 - room / prev) - elapsed
        else
          -- fits in the next minute, once enough of this one has slid out
          wait = (window - elapsed) + window * (1 - (limit - cost) / curr)
        end
        table.insert(answers, {0, math.floor(used), math.ceil(wait)})
      end
    end
  end
  table.insert(out, answers)
end
return out
`;

type TakeCommand = { gqWindowsTakeMany(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown> };

/** The script as a command of the connection: sent once, then run by its SHA (ioredis falls back on NOSCRIPT). */
function withTakeCommand(redis: Redis): TakeCommand {
  const client = redis as Redis & Partial<TakeCommand>;
  // the number of keys varies (two per window): given with each call
  if (!client.gqWindowsTakeMany) redis.defineCommand('gqWindowsTakeMany', { lua: TAKE_SCRIPT });
  return client as Redis & TakeCommand;
}

export type Take = { allowed: boolean; used: number; retryAfterSec: number | null };

/** One window to take from: `key` is the counters' base name, with its Redis Cluster hash tag. */
export type WindowTake = { key: string; limit: number; cost: number };

/** The part of a key Redis Cluster hashes: the text between its first `{` and the next `}`, when not empty. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Most takes one script carries. */
const MAX_TAKES_PER_SCRIPT = 200;

/**
 * Sliding-window counters in Redis, shared by every API instance. Takes asked for while a script is
 * in flight go together in the next one (GroupCommit, one script per hash tag): under load a
 * project's requests share a round trip instead of one script each.
 */
export class SlidingWindowLimiter {
  private readonly takes = new GroupCommit<readonly WindowTake[], Take[] | null>({
    runBatch: (takes) => this.runTakes(takes),
    maxBatch: MAX_TAKES_PER_SCRIPT,
    maxInFlight: 2,
  });

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
    if (this.redis.status !== 'ready' || windows.length === 0) return null;
    return this.takes.run(windows);
  }

  /** One script per hash tag for the takes asked for together; a take whose script failed answers null. */
  private async runTakes(takes: ReadonlyArray<readonly WindowTake[]>): Promise<Array<Take[] | null>> {
    const now = Date.now();
    const minute = Math.floor(now / WINDOW_MS);
    const bySlot = new Map<string, number[]>();
    takes.forEach((windows, i) => {
      const tag = hashTagOf(windows[0]!.key);
      const indexes = bySlot.get(tag);
      if (indexes) indexes.push(i);
      else bySlot.set(tag, [i]);
    });
    const answered: Array<Take[] | null> = takes.map(() => null);
    await Promise.all(
      [...bySlot.values()].map(async (indexes) => {
        const keys: string[] = [];
        const args: number[] = [now - minute * WINDOW_MS, WINDOW_MS, indexes.length];
        for (const i of indexes) {
          args.push(takes[i]!.length);
          for (const w of takes[i]!) {
            keys.push(`${w.key}:${minute}`, `${w.key}:${minute - 1}`);
            args.push(w.limit, w.cost);
          }
        }
        try {
          const answers = (await withTakeCommand(this.redis).gqWindowsTakeMany(keys.length, ...keys, ...args)) as Array<Array<[number, number, number]>>;
          indexes.forEach((i, n) => {
            answered[i] = (answers[n] ?? []).map(([allowed, used, waitMs]) => ({ allowed: allowed === 1, used, retryAfterSec: waitMs < 0 ? null : Math.max(1, Math.ceil(waitMs / 1000)) }));
          });
        } catch {
          // unreachable or refused: these takes answer null, and their requests go through
        }
      }),
    );
    return answered;
  }
}
