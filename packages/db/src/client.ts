import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client';
import { PreparingClient } from './prepared-statements';

export type PrismaClientOptions = {
  /** pg pool size of this process (pg's default is 10). */
  poolMax?: number;
  /** Give up opening a connection after this long instead of waiting forever on a dead host. */
  connectionTimeoutMs?: number;
  /**
   * Run our raw statements as named prepared statements (default). Off behind a connection pooler
   * in transaction mode that does not carry prepared statements across backends.
   */
  preparedStatements?: boolean;
};

const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

/** The pg pool under each client this module made: the hottest statements go through it as raw SQL. */
const POOLS = new WeakMap<PrismaClient, pg.Pool>();

/** The pg pool a client of createPrismaClient runs on (undefined for any other client). */
export function poolOf(client: PrismaClient): pg.Pool | undefined {
  return POOLS.get(client);
}

/**
 * The Prisma client of one process, on a pg pool through the driver adapter (Prisma 7 has no
 * built-in engine connection). Create it once in the composition root; `$disconnect()` ends the pool.
 */
export function createPrismaClient(databaseUrl: string, opts: PrismaClientOptions = {}): PrismaClient {
  const pool = new pg.Pool({
    ...(opts.preparedStatements === false ? {} : { Client: PreparingClient }),
    connectionString: databaseUrl,
    max: opts.poolMax,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
  });
  // A connection checked out but between queries (an interactive transaction held open, such as the
  // sweeper's lease) has no error listener of pg's or the adapter's at some moments; Postgres
  // ending it (a restart, a failover: FATAL 57P01) would then be an unhandled 'error' event and kill
  // the process. The broken connection still fails its next query and leaves the pool.
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const client = new PrismaClient({ adapter });
  POOLS.set(client, pool);
  return client;
}
