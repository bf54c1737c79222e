import {
  DEFAULT_RETRY_SCHEDULE_MS,
  ENDPOINT_DISABLE_AFTER_MS,
  maxAttempts,
  nextAttemptDelayMs,
  parseRetryScheduleMs,
  PROGRESS_WEBHOOK_MIN_INTERVAL_MS,
  shouldDisableEndpoint,
  WEBHOOK_MAX_RESPONSE_BYTES,
  WEBHOOK_TIMEOUT_MS,
} from '../src';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe('retry schedule', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H]);
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => nextAttemptDelayMs(n));
    expect(delays).toEqual([5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H, null]);
    expect(maxAttempts()).toBe(8);
  });

  it('takes a schedule from settings', () => {
    const schedule = parseRetryScheduleMs('100,200, 400');
    expect(schedule).toEqual([100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => nextAttemptDelayMs(n, schedule))).toEqual([100, 200, 400, null]);
    expect(maxAttempts(schedule)).toBe(4);
    expect(parseRetryScheduleMs('')).toEqual([]);
    expect(nextAttemptDelayMs(1, [])).toBeNull();
  });

  it('refuses a malformed setting or attempt count', () => {
    expect(() => parseRetryScheduleMs('100,abc')).toThrow(/entry 2/);
    expect(() => parseRetryScheduleMs('100,,200')).toThrow(RangeError);
    expect(() => parseRetryScheduleMs('-5')).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(0)).toThrow(RangeError);
  });
});

describe('policy constants', () => {
  it('match api.md', () => {
    expect(WEBHOOK_TIMEOUT_MS).toBe(10 * S);
    expect(ENDPOINT_DISABLE_AFTER_MS).toBe(5 * 24 * H);
    expect(PROGRESS_WEBHOOK_MIN_INTERVAL_MS).toBe(5 * S);
    expect(WEBHOOK_MAX_RESPONSE_BYTES).toBe(4096);
  });

  it('disables an endpoint failing for 5 days, not before', () => {
    const since = new Date('2026-11-20T10:00:00.000Z');
    expect(shouldDisableEndpoint(null)).toBe(false);
    expect(shouldDisableEndpoint(since, new Date(since.getTime() + ENDPOINT_DISABLE_AFTER_MS - 1))).toBe(false);
    expect(shouldDisableEndpoint(since, new Date(since.getTime() + ENDPOINT_DISABLE_AFTER_MS))).toBe(true);
  });
});
