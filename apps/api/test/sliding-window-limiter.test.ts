import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@genqueue/testing';
import { SlidingWindowLimiter } from '../src/services/sliding-window-limiter';

/**
 * The limiter on a real Redis: takes asked for together share a script (one per hash tag), and each
 * answers exactly as if it had run alone, in order.
 */
describe('SlidingWindowLimiter', () => {
  let redis: Redis;
  let limiter: SlidingWindowLimiter;
  let prefix: string;

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    limiter = new SlidingWindowLimiter(redis);
    await redis.ping();
  });
  beforeEach(() => {
    prefix = `gq-test-limiter-${randomUUID()}`;
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** Runs `body` inside one wall-clock minute (each counter key is one minute). */
  const withinOneMinute = async (needMs: number): Promise<void> => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50)); // waits for the clock
  };

  /** The scripts Redis ran that touched this test's keys, counted with MONITOR while `body` runs. */
  async function scriptsDuring(body: () => Promise<void>): Promise<number> {
    const monitor = await redis.monitor();
    let scripts = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval(sha)?$/i.test(args[0] ?? '') && args.some((a) => a.includes(prefix))) scripts += 1;
    });
    try {
      await body();
      // MONITOR's feed lags the replies: a PING through it comes after every command before it
      await redis.ping();
    } finally {
      monitor.disconnect();
    }
    return scripts;
  }

  it('lets exactly the limit through among concurrent takes, in fewer scripts than takes', async () => {
    await withinOneMinute(10_000);
    const key = `{${prefix}:p1}:requests`;
    let takes: Array<Awaited<ReturnType<SlidingWindowLimiter['takeInOrder']>>> = [];
    const scripts = await scriptsDuring(async () => {
      takes = await Promise.all(Array.from({ length: 60 }, () => limiter.takeInOrder([{ key, limit: 25, cost: 1 }])));
    });
    const answers = takes.map((t) => t![0]!);
    expect(answers.filter((a) => a.allowed)).toHaveLength(25);
    // each allowed take saw the ones before it: the counts it was told are 0..24, once each
    expect(answers.filter((a) => a.allowed).map((a) => a.used).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    for (const refused of answers.filter((a) => !a.allowed)) {
      expect(refused.used).toBe(25);
      expect(refused.retryAfterSec).toBeGreaterThanOrEqual(1);
    }
    expect(Number(await redis.get(`${key}:${Math.floor(Date.now() / 60_000)}`))).toBe(25);
    expect(scripts).toBeGreaterThanOrEqual(1);
    expect(scripts).toBeLessThan(60);
  });

  it('keeps the takes of different projects apart in one batch, and stops a take at its first refusal', async () => {
    await withinOneMinute(10_000);
    const requests = (p: string) => `{${prefix}:${p}}:requests`;
    const jobs = (p: string) => `{${prefix}:${p}}:jobs`;
    const [a1, b1, a2, b2, a3] = await Promise.all([
      limiter.takeInOrder([{ key: requests('a'), limit: 2, cost: 1 }, { key: jobs('a'), limit: 1, cost: 1 }]),
      limiter.takeInOrder([{ key: requests('b'), limit: 1, cost: 1 }]),
      limiter.takeInOrder([{ key: requests('a'), limit: 2, cost: 1 }, { key: jobs('a'), limit: 1, cost: 1 }]),
      limiter.takeInOrder([{ key: requests('b'), limit: 1, cost: 1 }]),
      limiter.takeInOrder([{ key: requests('a'), limit: 2, cost: 1 }, { key: jobs('a'), limit: 1, cost: 1 }]),
    ]);
    expect(a1!.map((t) => t.allowed)).toEqual([true, true]);
    // the second request fits, its job does not: the request stays counted
    expect(a2!.map((t) => t.allowed)).toEqual([true, false]);
    // refused at the request window: the job window is not read, not taken
    expect(a3!.map((t) => t.allowed)).toEqual([false]);
    expect([b1![0]!.allowed, b2![0]!.allowed]).toEqual([true, false]);
    const minute = Math.floor(Date.now() / 60_000);
    expect(await redis.mget(`${requests('a')}:${minute}`, `${jobs('a')}:${minute}`, `${requests('b')}:${minute}`)).toEqual(['2', '1', '1']);
  });

  it('refuses a cost above the limit as never fitting, and answers null while Redis is unreachable', async () => {
    const [tooBig] = (await limiter.takeInOrder([{ key: `{${prefix}:big}:jobs`, limit: 5, cost: 6 }]))!;
    expect(tooBig).toEqual({ allowed: false, used: 0, retryAfterSec: null });
    const closed = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await expect(new SlidingWindowLimiter(closed).take(`${prefix}:nowhere`, 5, 1)).resolves.toBeNull();
    closed.disconnect();
  });
});
