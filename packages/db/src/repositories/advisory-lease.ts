import type { PrismaClient } from '../generated/prisma/client';

/**
 * First key of every lease's advisory lock (the two-int key space, apart from the one-bigint locks
 * such as the project running-slot lock).
 */
const LEASE_LOCK_CLASS = 0x67710001;

export type LeaseRun<T> = { ran: true; value: T } | { ran: false };

export type LeaseOptions = {
  /** the lease is kept this long from the start of the work (at least as long as the work) */
  holdMs: number;
  /** the work may take this long on top of `holdMs` before Postgres ends the transaction */
  maxWorkMs: number;
  /** ends the hold early (shutdown) */
  signal?: AbortSignal;
};

/**
 * Periodic work that one process at a time does, among all processes on the database (the sweeper's
 * tick). A transaction-scoped advisory lock is taken with a try (never waited for) and held from
 * the start of the work until `holdMs` has passed, so the same tick of every other process finds it
 * taken and skips. It lives in Postgres, not Redis: it works while Redis is empty, restarting or
 * down, and a process that dies releases it with its connection.
 */
export class AdvisoryLease {
  constructor(
    private readonly db: PrismaClient,
    private readonly name: string,
  ) {}

  run<T>(options: LeaseOptions, work: () => Promise<T>): Promise<LeaseRun<T>> {
    return this.db.$transaction(
      async (tx): Promise<LeaseRun<T>> => {
        const [row] = await tx.$queryRaw<{ acquired: boolean }[]>`
          SELECT pg_try_advisory_xact_lock(${LEASE_LOCK_CLASS}::int, hashtext(${this.name})) AS acquired`;
        if (!row?.acquired) return { ran: false };
        const startedMs = Date.now();
        const value = await work();
        await holdUntil(startedMs + options.holdMs, options.signal);
        return { ran: true, value };
      },
      { maxWait: 10_000, timeout: options.holdMs + options.maxWorkMs },
    );
  }
}

function holdUntil(untilMs: number, signal?: AbortSignal): Promise<void> {
  const waitMs = untilMs - Date.now();
  if (waitMs <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, waitMs);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
