import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** producers on request paths: give up quickly while Redis is down (callers check `status` first) */
  | 'producer'
  /** BullMQ workers and subscribers: wait for Redis as long as it takes */
  | 'worker';

/** One place that knows how each role talks to Redis. */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    ...extra,
  };
  if (role === 'producer') {
    return new Redis(url, { ...common, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  }
  return new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true });
}

export async function isRedisReady(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('ping timeout')), timeoutMs).unref()),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  }
}

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor() {
    super('Redis is not connected');
  }
}

/** Throws at once instead of letting a command wait in ioredis' offline queue. */
export function assertRedisReady(redis: Redis): void {
  if (redis.status !== 'ready') throw new RedisUnavailableError();
}
