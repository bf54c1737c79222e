/**
 * Metered per-key rate windows: the gateway's in-memory sliding-window limiter
 * (NA `middleware/model-rate-limit.go`, memory store) in O(1) per request, with statistics.
 *
 * Semantics (a sliding log, the same as `SlidingWindowLimiter`): a request is allowed while fewer
 * than `max` ALLOWED requests fall inside the last `windowMs` (`now - at < windowMs`); only allowed
 * requests are recorded, so refused ones never push the window forward. Consequences a benchmark
 * can rely on: any interval of `windowMs` holds at most `max` allowed requests, and the k-th
 * allowed request (0-based) comes at least `floor(k / max) × windowMs` after the first one.
 *
 * Only the last `max` allowed timestamps matter, so each key keeps a ring of at most `max`
 * entries (grown on demand): a request compares `now` with the oldest entry and overwrites it.
 */

export type RateWindowStats = {
  /** The limit last applied (`null` when the key was only counted, no limit configured). */
  max: number | null;
  /** Window length in real milliseconds (60 s divided by the time factor in fast-time mode). */
  windowMs: number | null;
  allowed: number;
  /** Requests answered 429 (empty body) by this limiter; faults are not counted here. */
  limited: number;
  /** Allowed requests inside the window at snapshot time. */
  inWindow: number;
  firstAllowedAtMs: number | null;
  lastAllowedAtMs: number | null;
  firstLimitedAtMs: number | null;
  lastLimitedAtMs: number | null;
};

const INITIAL_CAPACITY = 64;

class KeyWindow {
  private times = new Float64Array(0);
  /** Index of the oldest entry. */
  private head = 0;
  private size = 0;
  max: number | null = null;
  windowMs: number | null = null;
  allowed = 0;
  limited = 0;
  firstAllowedAtMs: number | null = null;
  lastAllowedAtMs: number | null = null;
  firstLimitedAtMs: number | null = null;
  lastLimitedAtMs: number | null = null;

  tryHit(max: number, windowMs: number, nowMs: number): boolean {
    const limit = Math.max(0, Math.floor(max));
    if (limit !== this.max) this.resize(limit);
    this.max = limit;
    this.windowMs = windowMs;
    const isAllowed = limit > 0 && (this.size < limit || nowMs - (this.times[this.head] as number) >= windowMs);
    if (!isAllowed) {
      this.noteLimited(nowMs);
      return false;
    }
    if (this.size < limit) {
      if (this.size === this.times.length) this.grow(limit);
      this.times[(this.head + this.size) % this.times.length] = nowMs;
      this.size += 1;
    } else {
      // Full: the oldest entry is outside the window; the new hit takes its slot.
      this.times[this.head] = nowMs;
      this.head = (this.head + 1) % this.times.length;
    }
    this.noteAllowed(nowMs);
    return true;
  }

  noteAllowed(nowMs: number): void {
    this.allowed += 1;
    this.firstAllowedAtMs ??= nowMs;
    this.lastAllowedAtMs = nowMs;
  }

  private noteLimited(nowMs: number): void {
    this.limited += 1;
    this.firstLimitedAtMs ??= nowMs;
    this.lastLimitedAtMs = nowMs;
  }

  inWindow(nowMs: number): number {
    if (this.windowMs === null) return 0;
    let count = 0;
    for (let i = 0; i < this.size; i += 1) {
      if (nowMs - (this.times[(this.head + i) % this.times.length] as number) < this.windowMs) count += 1;
    }
    return count;
  }

  /** Chronological entries, keeping at most the newest `keep`. */
  private entries(keep: number): Float64Array {
    const count = Math.min(this.size, keep);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i += 1) out[i] = this.times[(this.head + this.size - count + i) % this.times.length] as number;
    return out;
  }

  private grow(limit: number): void {
    const capacity = Math.min(limit, Math.max(INITIAL_CAPACITY, this.times.length * 2));
    const next = new Float64Array(capacity);
    next.set(this.entries(this.size));
    this.times = next;
    this.head = 0;
  }

  /** A changed limit keeps the newest `limit` entries, so the window stays exact across changes. */
  private resize(limit: number): void {
    const kept = this.entries(limit);
    this.times = new Float64Array(Math.min(limit, Math.max(INITIAL_CAPACITY, kept.length)));
    this.times.set(kept);
    this.head = 0;
    this.size = kept.length;
  }
}

export class RateWindows {
  private keys = new Map<string, KeyWindow>();

  /** Records and answers one request against `max` per `windowMs`; `max` 0 refuses everything. */
  tryHit(key: string, max: number, windowMs: number, nowMs: number): boolean {
    return this.window(key).tryHit(max, windowMs, nowMs);
  }

  /** Counts a request on a key that has no limit configured (statistics only). */
  note(key: string, nowMs: number): void {
    this.window(key).noteAllowed(nowMs);
  }

  stats(key: string, nowMs: number): RateWindowStats | null {
    const w = this.keys.get(key);
    if (!w) return null;
    return {
      max: w.max,
      windowMs: w.windowMs,
      allowed: w.allowed,
      limited: w.limited,
      inWindow: w.inWindow(nowMs),
      firstAllowedAtMs: w.firstAllowedAtMs,
      lastAllowedAtMs: w.lastAllowedAtMs,
      firstLimitedAtMs: w.firstLimitedAtMs,
      lastLimitedAtMs: w.lastLimitedAtMs,
    };
  }

  snapshot(nowMs: number): Record<string, RateWindowStats> {
    const out: Record<string, RateWindowStats> = {};
    for (const key of this.keys.keys()) out[key] = this.stats(key, nowMs) as RateWindowStats;
    return out;
  }

  reset(): void {
    this.keys.clear();
  }

  private window(key: string): KeyWindow {
    let w = this.keys.get(key);
    if (!w) {
      w = new KeyWindow();
      this.keys.set(key, w);
    }
    return w;
  }
}
