/**
 * Simulated time. `now()` drives every expiry and window in the simulator; tests move it with
 * `advance()` or `setNow()` instead of sleeping. `scaleMs()` shortens simulated durations in
 * fast-time mode (slow answers, URL TTLs, rate windows, stream pacing, later task ticks).
 */
export type SimClock = {
  now(): number;
  nowSec(): number;
  advance(ms: number): number;
  setNow(source: (() => number) | null): void;
  scaleMs(ms: number): number;
  readonly isFastTime: boolean;
  readonly timeFactor: number;
};

export type ClockOptions = { fastTime?: boolean; timeFactor?: number; now?: () => number };

export function createClock(options: ClockOptions = {}): SimClock {
  let source: () => number = options.now ?? Date.now;
  let offsetMs = 0;
  const isFastTime = options.fastTime === true;
  const timeFactor = options.timeFactor ?? 60;
  if (!(timeFactor > 0)) throw new Error(`timeFactor must be > 0, got ${timeFactor}`);

  const now = (): number => source() + offsetMs;
  return {
    now,
    nowSec: () => Math.floor(now() / 1000),
    advance(ms) {
      offsetMs += ms;
      return now();
    },
    setNow(next) {
      source = next ?? Date.now;
      offsetMs = 0;
    },
    scaleMs: (ms) => (isFastTime ? ms / timeFactor : ms),
    isFastTime,
    timeFactor,
  };
}
