import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { testRedisUrl } from '@genqueue/testing';
import { createRedis, GatewayLaneGovernor, gatewayLaneKey } from '../src';

/** The governor against a real Redis, with the clock passed in so every step is exact. */
describe('GatewayLaneGovernor', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let lane: string;
  const T0 = 1_800_000_000_000;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
  });

  beforeEach(() => {
    lane = `lane-${randomBytes(3).toString('hex')}`;
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const governor = (perMinute: number, options = {}) => new GatewayLaneGovernor(redis, prefix, () => perMinute, options);

  /** Grants over `seconds`, asking every 10 ms (simulated) and sending at once when granted. */
  async function grantsOver(g: GatewayLaneGovernor, seconds: number, start = T0): Promise<number> {
    let granted = 0;
    for (let t = start; t < start + seconds * 1000; t += 10) if ((await g.acquire(lane, t)).ok) granted += 1;
    return granted;
  }

  it('paces requests at the lane rate with a burst of one second', async () => {
    const g = governor(600, { burstSec: 1 }); // 10 per second
    expect(await grantsOver(g, 3)).toBeGreaterThanOrEqual(30);
    expect(await grantsOver(g, 3)).toBeLessThanOrEqual(41);
  });

  it('says how long to wait when the bucket is empty', async () => {
    const g = governor(60, { burstSec: 1 }); // one per second
    expect(await g.acquire(lane, T0)).toEqual({ ok: true, probe: false });
    const refused = await g.acquire(lane, T0 + 100);
    expect(refused).toMatchObject({ ok: false, reason: 'rate' });
    expect(refused.ok === false && refused.waitMs).toBeGreaterThan(800);
    expect(refused.ok === false && refused.waitMs).toBeLessThanOrEqual(900);
    expect((await g.acquire(lane, T0 + 1000)).ok).toBe(true);
  });

  it('learns the gateway limit from a 429: the rate drops to what was accepted in the last minute', async () => {
    const g = governor(50);
    for (let i = 0; i < 40; i += 1) await g.report(lane, 'ok', T0 + i * 1000);
    const verdict = await g.report(lane, 'rate_limited', T0 + 40_000);
    const status = await g.status(lane, T0 + 40_000);
    expect(status.acceptedLastMinute).toBe(40);
    expect(status.ratePerMinute).toBeCloseTo(41 * 0.95, 1);
    expect(status.reason).toBe('rate_limited');
    // the pause lasts until the oldest accepted request leaves the gateway's minute (at T0 + 61 s)
    expect(verdict).toEqual({ held: true, reason: 'rate_limited', waitMs: 21_000 });
    expect((await g.acquire(lane, T0 + 40_100)).ok).toBe(false);
  });

  it('learns from what the gateway accepted, not from a rate already cut by 429s that came too early to learn from', async () => {
    const g = governor(120, { minPauseMs: 200 });
    for (let i = 0; i < 30; i += 1) await g.report(lane, 'ok', T0 + i * 400);
    // four 429s in the first 15 s (too little history): 120 → 84 → 58.8 → 41.2 → 28.8 per minute
    let t = T0 + 12_000;
    for (let i = 0; i < 4; i += 1) {
      const verdict = await g.report(lane, 'rate_limited', t);
      t += verdict.held ? verdict.waitMs : 0;
    }
    expect((await g.status(lane, t)).ratePerMinute).toBeCloseTo(120 * 0.7 ** 4, 1);
    // half a minute of history: the gateway took 30 in its minute, so the lane runs just under 31
    await g.report(lane, 'rate_limited', T0 + 31_000);
    expect((await g.status(lane, T0 + 31_000)).ratePerMinute).toBeCloseTo(31 * 0.95, 1);
  });

  it('a 429 after only a few seconds of traffic is not taken for the limit: the rate backs off by 30 %', async () => {
    const g = governor(600, { minPauseMs: 200 });
    for (let i = 0; i < 10; i += 1) await g.report(lane, 'ok', T0 + i * 100);
    await g.report(lane, 'rate_limited', T0 + 1_000);
    expect((await g.status(lane, T0 + 1_000)).ratePerMinute).toBeCloseTo(600 * 0.7, 0);
  });

  it('light traffic is not taken for the gateway limit: a 429 then only backs off by 30 %', async () => {
    const g = governor(12_000, { minPauseMs: 200 });
    for (let i = 0; i < 10; i += 1) await g.report(lane, 'ok', T0 + i * 500);
    expect(await g.report(lane, 'rate_limited', T0 + 5_000)).toEqual({ held: true, reason: 'rate_limited', waitMs: 200 });
    expect((await g.status(lane, T0 + 5_000)).ratePerMinute).toBeCloseTo(12_000 * 0.7, 0);
  });

  it('without history, each 429 cuts the rate by 30 % and doubles the pause', async () => {
    const g = governor(6000, { minPauseMs: 200 });
    const waits: number[] = [];
    let t = T0;
    for (let i = 0; i < 4; i += 1) {
      // each 429 answers a request sent after the pause of the one before
      const verdict = await g.report(lane, 'rate_limited', t);
      if (verdict.held) waits.push(verdict.waitMs);
      t += waits[waits.length - 1] ?? 0;
    }
    expect(waits).toEqual([200, 400, 800, 1600]);
    expect((await g.status(lane, t)).ratePerMinute).toBeCloseTo(6000 * 0.7 ** 4, 0);
  });

  it('429s that answer requests sent before the pause do not cut the rate again', async () => {
    const g = governor(6000, { minPauseMs: 200 });
    const first = await g.report(lane, 'rate_limited', T0);
    expect(first).toEqual({ held: true, waitMs: 200, reason: 'rate_limited' });
    // fifteen more requests were in flight when the first 429 came
    for (let i = 1; i <= 15; i += 1) expect(await g.report(lane, 'rate_limited', T0 + i)).toEqual({ held: true, waitMs: 200 - i, reason: 'rate_limited' });
    expect((await g.status(lane, T0 + 20)).ratePerMinute).toBeCloseTo(6000 * 0.7, 0);
    // one with a longer Retry-After extends the pause, still without a cut
    expect(await g.report(lane, 'rate_limited', T0 + 20, 5_000)).toEqual({ held: true, waitMs: 5_000, reason: 'rate_limited' });
    expect((await g.status(lane, T0 + 20)).ratePerMinute).toBeCloseTo(6000 * 0.7, 0);
    expect((await g.acquire(lane, T0 + 4_000)).ok).toBe(false);
  });

  it('honours Retry-After and grows the pause on repeated 429s without one', async () => {
    const g = governor(60);
    const withHeader = await g.report(lane, 'rate_limited', T0, 7_000);
    expect(withHeader).toEqual({ held: true, waitMs: 7_000, reason: 'rate_limited' });
    const lane2 = `${lane}-b`;
    const first = await g.report(lane2, 'rate_limited', T0);
    const second = await g.report(lane2, 'rate_limited', T0 + (first.held ? first.waitMs : 0));
    expect(first.held && second.held).toBe(true);
    if (first.held && second.held) expect(second.waitMs).toBeGreaterThan(first.waitMs);
    // an accepted answer ends the run of 429s
    await g.report(lane2, 'ok', T0 + 200_000);
    const fresh = await g.report(lane2, 'rate_limited', T0 + 200_000);
    if (fresh.held && first.held) expect(fresh.waitMs).toBeLessThan(second.held ? second.waitMs : Infinity);
  });

  it('climbs back towards the configured rate while answers are accepted', async () => {
    const g = governor(120);
    await g.report(lane, 'rate_limited', T0);
    const low = (await g.status(lane, T0)).ratePerMinute;
    for (let i = 0; i < 60; i += 1) await g.report(lane, 'ok', T0 + 10_000 + i * 1000);
    const later = (await g.status(lane, T0 + 70_000)).ratePerMinute;
    expect(later).toBeGreaterThan(low);
    expect(later).toBeLessThanOrEqual(120);
  });

  it('opens the breaker after consecutive outage answers, lets one probe through, and closes on an answer', async () => {
    const g = governor(600, { outageThreshold: 3, outageOpenMs: 5_000 });
    expect(await g.report(lane, 'outage', T0)).toEqual({ held: false });
    expect(await g.report(lane, 'outage', T0 + 10)).toEqual({ held: false });
    expect(await g.report(lane, 'outage', T0 + 20)).toEqual({ held: true, waitMs: 5_000, reason: 'outage' });
    expect(await g.acquire(lane, T0 + 1_000)).toEqual({ ok: false, waitMs: 4_020, reason: 'outage' });
    expect((await g.status(lane, T0 + 1_000)).breaker).toBe('open');
    // half open: one probe, the others wait for it
    expect(await g.acquire(lane, T0 + 5_100)).toEqual({ ok: true, probe: true });
    expect(await g.acquire(lane, T0 + 5_200)).toMatchObject({ ok: false, reason: 'outage' });
    // the probe fails: open again, twice as long
    expect(await g.report(lane, 'outage', T0 + 5_300)).toEqual({ held: true, waitMs: 10_000, reason: 'outage' });
    expect(await g.acquire(lane, T0 + 15_400)).toEqual({ ok: true, probe: true });
    expect(await g.report(lane, 'ok', T0 + 15_500)).toEqual({ held: false });
    expect((await g.status(lane, T0 + 15_500)).breaker).toBe('closed');
    expect((await g.acquire(lane, T0 + 15_600)).ok).toBe(true);
  });

  /** Counts the governor's script calls (EVALSHA/EVAL) on the shared connection while `work` runs. */
  async function scriptCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
    let calls = 0;
    const sendCommand = redis.sendCommand;
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      if (command.name === 'evalsha' || command.name === 'eval') calls += 1;
      return (sendCommand as (...a: unknown[]) => unknown).call(redis, command, ...rest);
    }) as typeof redis.sendCommand;
    try {
      return { result: await work(), calls };
    } finally {
      redis.sendCommand = sendCommand;
    }
  }

  it('grants places asked for in the same turn in one script call: as many as the bucket holds, the rest told to wait', async () => {
    const g = governor(180, { burstSec: 1 }); // three a second, three in the bucket
    const { result, calls } = await scriptCalls(() => Promise.all([0, 1, 2, 3, 4].map(() => g.acquire(lane, T0))));
    expect(calls).toBe(1);
    expect(result.slice(0, 3)).toEqual([0, 1, 2].map(() => ({ ok: true, probe: false })));
    for (const held of result.slice(3)) {
      expect(held).toMatchObject({ ok: false, reason: 'rate' });
      // the bucket is empty: the next place comes in a third of a second
      expect(held.ok === false && held.waitMs).toBe(334);
    }
    expect((await g.acquire(lane, T0 + 334)).ok).toBe(true);
  });

  it('lets one probe of a half-open lane through when several ask at once; the others wait for it', async () => {
    const g = governor(600, { outageThreshold: 1, outageOpenMs: 5_000 });
    await g.report(lane, 'outage', T0);
    const { result, calls } = await scriptCalls(() => Promise.all([0, 1, 2].map(() => g.acquire(lane, T0 + 5_100))));
    expect(calls).toBe(1);
    expect(result).toEqual([
      { ok: true, probe: true },
      { ok: false, waitMs: 1_000, reason: 'outage' },
      { ok: false, waitMs: 1_000, reason: 'outage' },
    ]);
  });

  it('records accepted answers reported in the same turn in one script call, each counted', async () => {
    const g = governor(600);
    const { result, calls } = await scriptCalls(() => Promise.all(Array.from({ length: 7 }, () => g.report(lane, 'ok', T0))));
    expect(calls).toBe(1);
    expect(result).toEqual(Array.from({ length: 7 }, () => ({ held: false })));
    expect((await g.status(lane, T0)).acceptedLastMinute).toBe(7);
  });

  it('a success between outage answers resets the count', async () => {
    const g = governor(600, { outageThreshold: 2 });
    await g.report(lane, 'outage', T0);
    await g.report(lane, 'ok', T0 + 1);
    expect(await g.report(lane, 'outage', T0 + 2)).toEqual({ held: false });
  });

  it('holds the lane at once after a refused key or quota, and probes later', async () => {
    const g = governor(600, { refusedOpenMs: 30_000 });
    expect(await g.report(lane, 'refused', T0)).toEqual({ held: true, waitMs: 30_000, reason: 'refused' });
    const status = await g.status(lane, T0 + 1);
    expect(status).toMatchObject({ breaker: 'open', reason: 'refused' });
    expect(await g.acquire(lane, T0 + 29_000)).toMatchObject({ ok: false, reason: 'refused' });
    expect(await g.acquire(lane, T0 + 30_001)).toEqual({ ok: true, probe: true });
    // still refused: a longer rest
    const again = await g.report(lane, 'refused', T0 + 30_100);
    expect(again.held && again.waitMs).toBe(60_000);
  });

  it('keeps one hash per lane under the prefix', async () => {
    const g = governor(60);
    await g.acquire(lane, T0);
    expect(await redis.exists(gatewayLaneKey(prefix, lane))).toBe(1);
  });
});
