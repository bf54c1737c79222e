import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** producers on request paths: fail fast while Redis is down instead of queueing commands in memory */
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
    return new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
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
