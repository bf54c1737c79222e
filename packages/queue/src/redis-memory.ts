import type { Redis } from 'ioredis';
import { assertRedisReady } from './redis';

/**
 * WARNING: a persisted key. Present while Redis still holds what genqueue wrote to it; a flush or
 * a restart without persistence takes it away with the queues.
 */
export const redisMemoryMarkerKey = (prefix: string): string => `${prefix}:memory-marker`;

/** Tells whether Redis lost its data since the last look (so work it held is gone, leases included). */
export class RedisMemoryMarker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * True when the marker was missing (Redis was flushed, came back empty, or is new), and sets it
   * again: the first caller after a loss is told once.
   */
  async wasLost(): Promise<boolean> {
    assertRedisReady(this.redis);
    const set = await this.redis.set(redisMemoryMarkerKey(this.prefix), String(Date.now()), 'NX');
    return set === 'OK';
  }
}
