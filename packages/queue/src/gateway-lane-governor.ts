import { AsyncLocalStorage } from 'node:async_hooks';
import { GroupCommit, KeyedGroupCommits } from '@genqueue/core';
import type { Redis } from 'ioredis';

/**
 * What happened to one gateway request, as far as the lane's health is concerned:
 * `ok` (any answer that shows the gateway working, refusals included), `rate_limited` (429),
 * `outage` (5xx, timeout, reset), `refused` (401/403: the key is refused or its quota is spent).
 */
export type LaneOutcome = 'ok' | 'rate_limited' | 'outage' | 'refused';

/** Why a lane holds requests back. */
export type LaneHoldReason = 'rate' | 'rate_limited' | 'outage' | 'refused';

export type LaneGrant = { ok: true; probe: boolean } | { ok: false; waitMs: number; reason: LaneHoldReason };

/** After a report: whether requests of the lane are held back now, and for how long. */
export type LaneVerdict = { held: false } | { held: true; waitMs: number; reason: LaneHoldReason };

export type LaneStatus = {
  lane: string;
  /** requests per minute the lane sends now (learnt from 429s, at most `maxPerMinute`) */
  ratePerMinute: number;
  maxPerMinute: number;
  /** requests the gateway accepted in the last 60 s */
  acceptedLastMinute: number;
  /** `closed`: requests flow; `open`: held after an outage or a refused key; `half_open`: one probe may go */
  breaker: 'closed' | 'open' | 'half_open';
  heldUntil: Date | null;
  reason: LaneHoldReason | null;
  consecutiveFailures: number;
};

export type GovernorOptions = {
  /** consecutive outage answers that open the breaker */
  outageThreshold?: number;
  /** first open period after an outage; doubles after each failed probe */
  outageOpenMs?: number;
  /** longest open period */
  maxOpenMs?: number;
  /** how long a lane rests after a refused key or quota before one probe */
  refusedOpenMs?: number;
  /** how long a half-open probe may take before another caller may probe */
  probeLeaseMs?: number;
  /** the learnt rate never falls below this (requests per minute) */
  minPerMinute?: number;
  /** burst: how many seconds of the current rate may go at once */
  burstSec?: number;
  /** the shortest pause after a 429 without Retry-After (RATE_LIMIT_PAUSE_MS) */
  minPauseMs?: number;
};

const DEFAULTS: Required<GovernorOptions> = {
  outageThreshold: 5,
  outageOpenMs: 5_000,
  maxOpenMs: 60_000,
  refusedOpenMs: 30_000,
  probeLeaseMs: 30_000,
  minPerMinute: 1,
  // two seconds of the rate: a queue limiter pacing starts at the same rate never meets an empty bucket by jitter
  burstSec: 2,
  minPauseMs: 1_000,
};

/** WARNING: a persisted key shared by every worker: one hash per gateway lane. */
export const gatewayLaneKey = (prefix: string, lane: string): string => `${prefix}:gateway-lane:${lane}`;

// Accepted answers are counted in a ring of 64 one-second buckets (fields c<i> count, e<i> second),
// so "how many did the gateway accept in the last minute" needs no sorted set per request.
const LUA_COMMON = `
local key = KEYS[1]
local now = tonumber(ARGV[2])
local maxRate = tonumber(ARGV[3])
local minRate = tonumber(ARGV[4])
local burstSec = tonumber(ARGV[5])
local h = redis.call('HGETALL', key)
local s = {}
for i = 1, #h, 2 do s[h[i]] = h[i + 1] end
local function num(field, default) local v = tonumber(s[field]); if v == nil then return default end; return v end
local rate = math.min(num('rate', maxRate), maxRate)
local function burst() return math.max(1, rate * burstSec / 60) end
-- accepted answers in the last 60 s, and the second of the oldest of them
local function accepted()
  local sec = math.floor(now / 1000)
  local total = 0
  local oldest = sec
  for i = 0, 63 do
    local e = tonumber(s['e' .. i])
    if e ~= nil and e > sec - 60 and e <= sec then
      total = total + num('c' .. i, 0)
      if e < oldest then oldest = e end
    end
  end
  return total, oldest
end
`;

// ARGV[7]: how many places are asked for at once. Answers {granted, waitMs for the rest, 1 when the
// one granted is a probe, why the rest are held}: the first `granted` askers go.
const ACQUIRE_LUA = `${LUA_COMMON}
local wanted = tonumber(ARGV[7]) or 1
local openUntil = num('open_until', 0)
local holdReason = s['reason'] or 'outage'
if openUntil > 0 then
  if now < openUntil then return {0, openUntil - now, 0, holdReason} end
  if num('probe_until', 0) > now then return {0, math.min(num('probe_until', 0) - now, 1000), 0, holdReason} end
  redis.call('HSET', key, 'probe_until', now + tonumber(ARGV[6]))
  return {1, math.min(tonumber(ARGV[6]), 1000), 1, holdReason}
end
local pausedUntil = num('paused_until', 0)
if pausedUntil > now then return {0, pausedUntil - now, 0, 'rate_limited'} end
local tokens = num('tokens', burst())
local ts = num('ts', now)
if now > ts then tokens = math.min(burst(), tokens + (now - ts) * rate / 60000) end
local granted = math.max(0, math.min(wanted, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now, 'rate', tostring(rate))
if granted == wanted then return {granted, 0, 0, ''} end
return {granted, math.ceil((1 - tokens) * 60000 / rate), 0, 'rate'}
`;

// ARGV[12]: how many answers of this outcome it records (accepted answers are reported together)
const REPORT_LUA = `${LUA_COMMON}
local outcome = ARGV[1]
local count = tonumber(ARGV[12]) or 1
local retryAfterMs = tonumber(ARGV[6])
local threshold = tonumber(ARGV[7])
local outageOpenMs = tonumber(ARGV[8])
local maxOpenMs = tonumber(ARGV[9])
local refusedOpenMs = tonumber(ARGV[10])
local openUntil = num('open_until', 0)
local function hold(untilMs, reason) return {1, math.max(0, untilMs - now), reason} end

if outcome == 'ok' or outcome == 'rate_limited' then
  -- the gateway answered: whatever held the lane for an outage or a refused key is over
  if openUntil > 0 or num('fails', 0) > 0 then
    redis.call('HSET', key, 'open_until', 0, 'open_ms', 0, 'probe_until', 0, 'fails', 0)
    redis.call('HDEL', key, 'reason')
  end
end
if outcome == 'ok' then
  local sec = math.floor(now / 1000)
  local slot = sec % 64
  if tonumber(s['e' .. slot]) == sec then
    redis.call('HINCRBY', key, 'c' .. slot, count)
  else
    redis.call('HSET', key, 'e' .. slot, sec, 'c' .. slot, count)
  end
  -- additive increase per minute of accepted requests: 5 % of the configured rate while no limit
  -- was learnt, 1 % of the learnt limit after one (so the next probe past it is minutes away)
  local learntLimit = num('learnt', 0)
  local perMinute = math.max(1, maxRate * 0.05)
  if learntLimit > 0 then perMinute = math.max(0.5, learntLimit * 0.01) end
  local step = perMinute / math.max(1, rate)
  redis.call('HSET', key, 'rate', tostring(math.min(maxRate, rate + step * count)), 'limited_run', 0)
  return {0, 0, ''}
end
if outcome == 'rate_limited' then
  local pausedUntil = num('paused_until', 0)
  if pausedUntil > now then
    -- the lane already paused for a 429: this one answers a request sent before that pause (many
    -- are in flight at once), so it teaches nothing new; cutting the rate again for each would
    -- take it from the configured rate to almost nothing in one burst
    if retryAfterMs ~= nil and retryAfterMs > 0 and now + retryAfterMs > pausedUntil then
      pausedUntil = now + math.floor(math.min(60000, retryAfterMs))
      redis.call('HSET', key, 'paused_until', pausedUntil, 'ts', pausedUntil)
    end
    return hold(pausedUntil, 'rate_limited')
  end
  local run = num('limited_run', 0) + 1
  local minPause = tonumber(ARGV[11])
  local seen, oldest = accepted()
  local spanSec = math.max(1, math.floor(now / 1000) - oldest + 1)
  local sentPerMinute = seen * 60 / spanSec
  local learnt
  local pause
  if seen >= 5 and spanSec >= 30 and sentPerMinute >= rate * 0.5 then
    -- for half a minute or more we were pushing our own rate and the gateway's window filled:
    -- what it accepted from us in the last minute is its limit for us
    -- (what it accepted, not our rate: that may already be cut by the guesses below before the
    -- history was long enough, and taking the lower of the two would keep the lane under the limit)
    learnt = math.max(minRate, math.min(maxRate, seen + 1) * 0.95)
    redis.call('HSET', key, 'learnt', tostring(math.min(maxRate, seen + 1)))
    -- the window frees a place when the oldest request it holds leaves it: wait for that, not
    -- for a guess (a burst at the start fills the window for most of a minute)
    pause = math.max(minPause, (oldest + 61) * 1000 - now, 60000 / learnt)
  else
    -- too little history, or our volume does not explain the 429 (another client, the upstream
    -- saturated, a one-off): back off without taking our traffic for the gateway's limit
    learnt = math.max(minRate, rate * 0.7)
    pause = minPause * 2 ^ (run - 1)
  end
  if retryAfterMs ~= nil and retryAfterMs > 0 then pause = retryAfterMs end
  local untilMs = math.max(num('paused_until', 0), now + math.floor(math.min(60000, pause)))
  redis.call('HSET', key, 'rate', tostring(learnt), 'limited_run', run, 'paused_until', untilMs, 'tokens', 0, 'ts', untilMs)
  return hold(untilMs, 'rate_limited')
end
if outcome == 'outage' then
  local fails = num('fails', 0) + 1
  redis.call('HSET', key, 'fails', fails)
  if openUntil > 0 then
    -- a failed probe: stay open, twice as long
    local openMs = math.min(maxOpenMs, math.max(outageOpenMs, num('open_ms', outageOpenMs) * 2))
    redis.call('HSET', key, 'open_until', now + openMs, 'open_ms', openMs, 'probe_until', 0, 'reason', s['reason'] or 'outage')
    return hold(now + openMs, s['reason'] or 'outage')
  end
  if fails >= threshold then
    redis.call('HSET', key, 'open_until', now + outageOpenMs, 'open_ms', outageOpenMs, 'probe_until', 0, 'reason', 'outage')
    return hold(now + outageOpenMs, 'outage')
  end
  return {0, 0, ''}
end
if outcome == 'refused' then
  local openMs = refusedOpenMs
  if openUntil > 0 and s['reason'] == 'refused' then openMs = math.min(math.max(maxOpenMs, refusedOpenMs), math.max(refusedOpenMs, num('open_ms', refusedOpenMs) * 2)) end
  redis.call('HSET', key, 'open_until', now + openMs, 'open_ms', openMs, 'probe_until', 0, 'reason', 'refused')
  return hold(now + openMs, 'refused')
end
return redis.error_reply('unknown outcome ' .. tostring(outcome))
`;

// a place taken and not used (the job did not send its request) goes back to the bucket
const REFUND_LUA = `${LUA_COMMON}
local tokens = num('tokens', burst())
local ts = num('ts', now)
if now > ts then tokens = math.min(burst(), tokens + (now - ts) * rate / 60000) end
redis.call('HSET', key, 'tokens', tostring(math.min(burst(), tokens + 1)), 'ts', math.max(now, ts))
if ARGV[6] == '1' then redis.call('HSET', key, 'probe_until', 0) end
return 1
`;

const STATUS_LUA = `${LUA_COMMON}
local acceptedLastMinute = accepted()
return {tostring(rate), acceptedLastMinute, num('open_until', 0), num('probe_until', 0), num('paused_until', 0), s['reason'] or '', num('fails', 0)}
`;

/** Most calls of a lane one script call serves. */
const MAX_GROUPED_CALLS = 1_000;

type GovernedRedis = Redis & {
  gqLaneAcquire(key: string, ...args: (string | number)[]): Promise<[number, number, number, string]>;
  gqLaneReport(key: string, ...args: (string | number)[]): Promise<[number, number, string]>;
  gqLaneStatus(key: string, ...args: (string | number)[]): Promise<[string, number, number, number, number, string, number]>;
  gqLaneRefund(key: string, ...args: (string | number)[]): Promise<number>;
};

/** A lane's place taken before a job started, for the job's first request on that lane. */
type Reservation = { lane: string; probe: boolean; used: boolean };
const reservations = new AsyncLocalStorage<Reservation>();

function defineScripts(redis: Redis): GovernedRedis {
  const governed = redis as GovernedRedis;
  if (typeof governed.gqLaneAcquire !== 'function') {
    redis.defineCommand('gqLaneAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    redis.defineCommand('gqLaneReport', { numberOfKeys: 1, lua: REPORT_LUA });
    redis.defineCommand('gqLaneStatus', { numberOfKeys: 1, lua: STATUS_LUA });
    redis.defineCommand('gqLaneRefund', { numberOfKeys: 1, lua: REFUND_LUA });
  }
  return governed;
}

/**
 * Pacing and health of the gateway's lanes, shared by every worker through Redis:
 * - a token bucket per lane counts gateway requests (not queue wakes) against the lane's rate;
 * - the rate is learnt from 429s: on a 429 the lane drops to what the gateway accepted in the last
 *   minute (times 0.95), pauses (Retry-After when given, else a growing pause), then climbs back
 *   slowly while answers are accepted;
 * - a breaker opens after consecutive outage answers (5xx, timeouts) or at once on a refused key
 *   or quota, lets one probe through when its period is over, and closes on any real answer.
 * Callers pass the clock (`nowMs`), so tests drive it exactly.
 *
 * A lane's places asked for while its acquire is in flight are asked for together in the next one,
 * and so are its accepted answers (GroupCommit): under load one script call serves many jobs, where
 * each job alone cost two (its place and its answer).
 */
export class GatewayLaneGovernor {
  private readonly redis: GovernedRedis;
  private readonly options: Required<GovernorOptions>;
  /** per lane: places asked for (each call's clock) */
  private readonly acquires = new KeyedGroupCommits<number, LaneGrant>(
    (lane) => new GroupCommit({ runBatch: (clocks) => this.acquireMany(lane, clocks), maxBatch: MAX_GROUPED_CALLS }),
  );
  /** per lane: accepted answers to record (each call's clock); a lane's `ok` answers one verdict for all */
  private readonly accepted = new KeyedGroupCommits<number, LaneVerdict>(
    (lane) =>
      new GroupCommit({
        runBatch: async (clocks) => {
          const verdict = await this.record(lane, 'ok', Math.max(...clocks), undefined, clocks.length);
          return clocks.map(() => verdict);
        },
        maxBatch: MAX_GROUPED_CALLS,
      }),
  );

  constructor(
    redis: Redis,
    private readonly prefix: string,
    /** the configured (highest) requests per minute of each lane */
    private readonly maxPerMinute: (lane: string) => number,
    options: GovernorOptions = {},
  ) {
    this.redis = defineScripts(redis);
    this.options = { ...DEFAULTS, ...options };
  }

  /** ARGV 1–5 of every script: the operation, the clock, and the lane's rate bounds. */
  private common(lane: string, operation: string, nowMs: number): (string | number)[] {
    return [operation, nowMs, this.maxPerMinute(lane), this.options.minPerMinute, this.options.burstSec];
  }

  /**
   * Takes one request's place in the lane, or says how long to wait before asking again. Inside
   * `withReserved`, the first request of the reserved lane uses the place taken before the job began.
   */
  async acquire(lane: string, nowMs = Date.now()): Promise<LaneGrant> {
    const reserved = reservations.getStore();
    if (reserved && !reserved.used && reserved.lane === lane) {
      reserved.used = true;
      return { ok: true, probe: reserved.probe };
    }
    return this.acquires.run(lane, nowMs);
  }

  /** Places for several askers at once: the first `granted` go (one of them a probe, when the lane is half open). */
  private async acquireMany(lane: string, clocks: readonly number[]): Promise<LaneGrant[]> {
    const args = this.common(lane, 'acquire', Math.max(...clocks));
    const [granted, waitMs, probe, reason] = await this.redis.gqLaneAcquire(gatewayLaneKey(this.prefix, lane), ...args, this.options.probeLeaseMs, clocks.length);
    return clocks.map((_, i): LaneGrant => (i < granted ? { ok: true, probe: probe === 1 } : { ok: false, waitMs: Math.max(1, waitMs), reason: reason as LaneHoldReason }));
  }

  /**
   * Runs `work` (one job) with a place `grant`ed in `lane` beforehand: its first request on that lane
   * uses it instead of asking again. A place left unused (the job sent nothing) is given back.
   * A worker takes the place before it starts a job, so a lane at its rate costs no job start.
   */
  async withReserved<T>(lane: string, grant: LaneGrant & { ok: true }, work: () => Promise<T>): Promise<T> {
    const reservation: Reservation = { lane, probe: grant.probe, used: false };
    try {
      return await reservations.run(reservation, work);
    } finally {
      if (!reservation.used) await this.refund(lane, grant.probe).catch(() => undefined);
    }
  }

  /** Gives back a place taken by `acquire` and not used (and the probe lease, for a probe). */
  async refund(lane: string, probe = false, nowMs = Date.now()): Promise<void> {
    const args = this.common(lane, 'refund', nowMs);
    await this.redis.gqLaneRefund(gatewayLaneKey(this.prefix, lane), ...args, probe ? '1' : '0');
  }

  /** Records how the gateway answered; says whether the lane holds requests back now. */
  async report(lane: string, outcome: LaneOutcome, nowMs = Date.now(), retryAfterMs?: number): Promise<LaneVerdict> {
    if (outcome === 'ok') return this.accepted.run(lane, nowMs);
    return this.record(lane, outcome, nowMs, retryAfterMs, 1);
  }

  /** `count` answers of one outcome, in one script call. */
  private async record(lane: string, outcome: LaneOutcome, nowMs: number, retryAfterMs: number | undefined, count: number): Promise<LaneVerdict> {
    const o = this.options;
    const args = this.common(lane, outcome, nowMs);
    const [held, waitMs, reason] = await this.redis.gqLaneReport(
      gatewayLaneKey(this.prefix, lane),
      ...args,
      retryAfterMs ?? 0,
      o.outageThreshold,
      o.outageOpenMs,
      o.maxOpenMs,
      o.refusedOpenMs,
      o.minPauseMs,
      count,
    );
    return held === 1 ? { held: true, waitMs, reason: reason as LaneHoldReason } : { held: false };
  }

  async status(lane: string, nowMs = Date.now()): Promise<LaneStatus> {
    const args = this.common(lane, 'status', nowMs);
    const [rate, acceptedLastMinute, openUntil, probeUntil, pausedUntil, reason, fails] = await this.redis.gqLaneStatus(
      gatewayLaneKey(this.prefix, lane),
      ...args,
    );
    const isOpen = openUntil > 0;
    const breaker = !isOpen ? 'closed' : nowMs < openUntil || probeUntil > nowMs ? 'open' : 'half_open';
    const heldUntilMs = isOpen ? openUntil : pausedUntil > nowMs ? pausedUntil : 0;
    return {
      lane,
      ratePerMinute: Math.round(Number(rate) * 100) / 100,
      maxPerMinute: this.maxPerMinute(lane),
      acceptedLastMinute,
      breaker,
      heldUntil: heldUntilMs > 0 ? new Date(heldUntilMs) : null,
      reason: isOpen ? ((reason || 'outage') as LaneHoldReason) : pausedUntil > nowMs ? 'rate_limited' : null,
      consecutiveFailures: fails,
    };
  }
}
