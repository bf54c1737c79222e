/**
 * Sliding-window limiter like the gateway's in-memory one: a request is recorded only when it is
 * allowed, and allowed while fewer than `max` requests fall inside the window.
 */
export class SlidingWindowLimiter {
  private hits = new Map<string, number[]>();

  tryHit(key: string, max: number, windowMs: number, nowMs: number): boolean {
    const recent = (this.hits.get(key) ?? []).filter((at) => nowMs - at < windowMs);
    const isAllowed = recent.length < max;
    if (isAllowed) recent.push(nowMs);
    this.hits.set(key, recent);
    return isAllowed;
  }

  reset(): void {
    this.hits.clear();
  }
}
