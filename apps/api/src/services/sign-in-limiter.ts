import type { Redis } from 'ioredis';
import { AppError } from '@genqueue/core';

const MAX_WRONG_KEYS = 5;
const WINDOW_MS = 15 * 60_000;

/**
 * Wrong admin keys per client address: after 5 within 15 minutes (counted from the first), that
 * address gets 429 until the window ends. Counted in Redis, so every API instance agrees. While
 * Redis is down sign-in answers 503 (fails closed): an admin key may be a short operator-chosen
 * ADMIN_API_KEY, and without the counter nothing would stop guessing. Bearer keys still work then.
 */
export class SignInLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keyOf(address: string): string {
    return `${this.prefix}:admin-sign-in-failures:${address}`;
  }

  /** Throws 429 (with Retry-After) when the address is locked out, 503 when Redis cannot say. */
  async assertAllowed(address: string): Promise<void> {
    const key = this.keyOf(address);
    let failures: number;
    let ttlMs: number;
    try {
      this.assertReady();
      const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      failures = Number(count ?? 0);
      ttlMs = ttl;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw unavailable();
    }
    if (failures >= MAX_WRONG_KEYS) {
      const retryAfterSec = Math.max(1, Math.ceil((ttlMs > 0 ? ttlMs : WINDOW_MS) / 1000));
      throw new AppError('rate_limited', 'Too many wrong admin keys from this address; try again later', [], retryAfterSec);
    }
  }

  /** Counts one wrong key; the window starts with the first. */
  async recordFailure(address: string): Promise<void> {
    const key = this.keyOf(address);
    try {
      this.assertReady();
      await this.redis.multi().incr(key).pexpire(key, WINDOW_MS, 'NX').exec();
    } catch {
      throw unavailable();
    }
  }

  private assertReady(): void {
    if (this.redis.status !== 'ready') throw unavailable();
  }
}

const unavailable = (): AppError => new AppError('unavailable', 'Sign-in needs Redis, which is unreachable; try again shortly', [], 5);
