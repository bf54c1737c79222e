import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

export type RedisRole =
  /** producers on request paths: give up quickly while Redis is down (callers check `status` first) */
  | 'producer'
  /** BullMQ workers and subscribers: wait for Redis as long as it takes */
  | 'worker';

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//;

/**
 * One place that knows how each role talks to Redis. `redis+cluster://[user:password@]host:port,…`
 * (or `rediss+cluster://` for TLS) names seed nodes of a Redis Cluster; every key genqueue writes
 * carries a hash tag where a command or script touches several keys, so any slot layout works.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const retryStrategy = (times: number) => Math.min(times * 200, 5_000);
  const common: RedisOptions = { lazyConnect: false, retryStrategy, ...extra };
  const byRole: RedisOptions =
    role === 'producer' ? { maxRetriesPerRequest: 1, connectTimeout: 2_000 } : { maxRetriesPerRequest: null, enableReadyCheck: true };
  const cluster = parseClusterUrl(url);
  if (cluster) {
    const client = new Cluster(cluster.nodes, {
      lazyConnect: false,
      enableReadyCheck: true,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...cluster.redisOptions, ...byRole, ...extra },
    });
    // A cluster client answers the same commands (scripts, pipelines of one key, pub/sub) through
    // the same surface; the cluster test runs the whole service on one to hold that true.
    return client as unknown as Redis;
  }
  return new Redis(url, { ...common, ...byRole });
}

/** Seed nodes and node options of a `redis+cluster://` URL; null for a plain Redis URL. */
export function parseClusterUrl(url: string): { nodes: ClusterNode[]; redisOptions: RedisOptions } | null {
  const scheme = CLUSTER_SCHEME.exec(url);
  if (!scheme) return null;
  const rest = url.slice(scheme[0].length).replace(/\/.*$/, '');
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const hosts = at >= 0 ? rest.slice(at + 1) : rest;
  const [username, password] = auth.includes(':') ? auth.split(/:(.*)/s, 2) : [auth, ''];
  const nodes = hosts
    .split(',')
    .filter(Boolean)
    .map((hostPort) => {
      const [host, port] = hostPort.split(':');
      return { host: host || '127.0.0.1', port: Number(port || 6379) };
    });
  if (nodes.length === 0) throw new Error('REDIS_URL names a cluster without nodes');
  return {
    nodes,
    redisOptions: {
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
      ...(scheme[1] === 'rediss' ? { tls: {} } : {}),
    },
  };
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
