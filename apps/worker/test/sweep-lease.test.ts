import { randomBytes } from 'node:crypto';
import { AdvisoryLease, createPrismaClient, type PrismaClient } from '@genqueue/db';
import { testDatabaseUrl } from '@genqueue/testing';
import pino from 'pino';
import { SweepTimer } from '../src/sweep-timer';
import type { SweepReport } from '../src/sweeper';
import { pollUntil } from './helpers';

/**
 * The sweeper's lease on real Postgres, as two worker processes would hold it (two clients, two
 * pools): one tick per interval among all of them, whatever Redis holds.
 */
describe('sweeper lease', () => {
  let clients: PrismaClient[];

  beforeAll(() => {
    clients = [0, 1].map(() => createPrismaClient(testDatabaseUrl(), { poolMax: 2 }));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });

  const leaseName = () => `test.lease.${randomBytes(6).toString('hex')}`;

  it('lets one of two processes run the work and the other skip; free again once the hold is over', async () => {
    const name = leaseName();
    const [a, b] = clients.map((client) => new AdvisoryLease(client, name)) as [AdvisoryLease, AdvisoryLease];
    let runs = 0;
    const work = async () => (runs += 1);
    const options = { holdMs: 1_000, maxWorkMs: 5_000 };

    const both = await Promise.all([a.run(options, work), b.run(options, work)]);
    expect(both.map((r) => r.ran).sort()).toEqual([false, true]);
    expect(runs).toBe(1);
    // the winner held the lease until its hold ended; now either process may run again
    expect(await b.run(options, work)).toEqual({ ran: true, value: 2 });
  });

  it('keeps the timers of two processes to one sweep per interval', async () => {
    const name = leaseName();
    const intervalMs = 300;
    const sweeps: Array<{ process: number; atMs: number }> = [];
    const report: SweepReport = { expired: 0, timedOut: 0, requeued: 0 };
    const timers = clients.map(
      (client, process) =>
        new SweepTimer({
          intervalMs,
          lease: new AdvisoryLease(client, name),
          sweep: async () => (sweeps.push({ process, atMs: Date.now() }), report),
          logger: pino({ level: 'silent' }),
        }),
    );
    for (const timer of timers) timer.start();
    let whileRunning: typeof sweeps = [];
    try {
      await pollUntil('six sweeps', async () => (sweeps.length >= 6 ? true : undefined), 10_000);
      // closing ends the holder's hold early (shutdown), so the other process may sweep once more
      // right after: only the sweeps before the close are the timers' steady schedule
      whileRunning = sweeps.slice();
    } finally {
      await Promise.all(timers.map((t) => t.close()));
    }
    // each sweep starts only after the previous one's lease (0.9 of the interval) is over
    const gaps = whileRunning.slice(1).map((s, i) => s.atMs - whileRunning[i]!.atMs);
    expect(gaps.filter((gapMs) => gapMs < intervalMs * 0.9 - 5)).toEqual([]);
  });

  it('sweeps at once when nudged (Redis came back), even while a process holds the lease', async () => {
    const name = leaseName();
    const intervalMs = 60_000;
    const sweeps: number[] = [];
    const report: SweepReport = { expired: 0, timedOut: 0, requeued: 0 };
    const timers = clients.map(
      (client, process) =>
        new SweepTimer({
          intervalMs,
          lease: new AdvisoryLease(client, name),
          sweep: async () => (sweeps.push(process), report),
          logger: pino({ level: 'silent' }),
        }),
    );
    for (const timer of timers) timer.start();
    try {
      // the first tick runs and its process holds the lease for most of a minute
      await pollUntil('the first sweep', async () => (sweeps.length >= 1 ? true : undefined), 10_000);
      // both processes see Redis come back: one more sweep now, not in a minute
      for (const timer of timers) timer.nudge();
      await pollUntil('a sweep after the nudge', async () => (sweeps.length >= 2 ? true : undefined), 10_000);
    } finally {
      await Promise.all(timers.map((t) => t.close()));
    }
    expect(sweeps.length).toBeGreaterThanOrEqual(2);
  });
});
