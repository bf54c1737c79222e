import { jitteredBackoff } from '../src/processors/job.processor';
import { rateLimitPause } from '../src/processors/outcome-to-bullmq';

describe('jitteredBackoff', () => {
  const fixed = (value: number) => () => value;

  it('doubles from the base delay on each attempt', () => {
    const middle = jitteredBackoff(100, 1_000_000, fixed(0.5));
    expect([1, 2, 3, 4, 5].map(middle)).toEqual([100, 200, 400, 800, 1600]);
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(jitteredBackoff(100, 10_000, fixed(0.5))(0)).toBe(100);
  });

  it('jitters by ±25 %', () => {
    expect(jitteredBackoff(1000, 1_000_000, fixed(0))(1)).toBe(750);
    expect(jitteredBackoff(1000, 1_000_000, fixed(0.999999))(1)).toBe(1250);
  });

  it('never exceeds the cap, jitter included, however many attempts', () => {
    const highest = jitteredBackoff(100, 1000, fixed(0.999999));
    for (const attempt of [4, 5, 10, 50, 2000]) expect(highest(attempt)).toBe(1000);
    expect(jitteredBackoff(100, 1000, fixed(0))(50)).toBe(750);
  });

  it('spreads retries of the same attempt with the real random source', () => {
    const backoff = jitteredBackoff(1000, 60_000);
    const delays = new Set(Array.from({ length: 50 }, () => backoff(3)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(3000);
      expect(delay).toBeLessThanOrEqual(5000);
    }
  });
});

describe('rateLimitPause', () => {
  it('is the setting ±25 %', () => {
    expect(rateLimitPause(1000, () => 0)).toBe(750);
    expect(rateLimitPause(1000, () => 0.5)).toBe(1000);
    expect(rateLimitPause(1000, () => 0.999999)).toBe(1250);
  });
});

// jobProcessor itself runs on a real Redis and BullMQ in outcome-to-bullmq.test.ts.
