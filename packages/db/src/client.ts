import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export type PrismaClientOptions = {
  /** pg pool size of this process (pg's default is 10). */
  poolMax?: number;
  /** Give up opening a connection after this long instead of waiting forever on a dead host. */
  connectionTimeoutMs?: number;
};

const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

/**
 * The Prisma client of one process, on a pg pool through the driver adapter (Prisma 7 has no
 * built-in engine connection). Create it once in the composition root; `$disconnect()` ends the pool.
 */
export function createPrismaClient(databaseUrl: string, opts: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: opts.poolMax,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
  });
  return new PrismaClient({ adapter });
}
