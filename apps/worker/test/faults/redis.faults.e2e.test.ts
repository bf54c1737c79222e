import { FaultBed, report, secondsSince } from './fault-kit';

/**
 * Redis loses everything (issue 10, item 7, scenarios 1 and 2): Postgres keeps every job, and the
 * sweeper puts queued and running rows back; nothing ends twice, no task is submitted twice.
 */
describe('fault suite: Redis', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await FaultBed.start();
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  });

  it('Redis SIGKILLed and restarted empty on the same port', async () => {
    const jobs = await bed.submitMix('redis-killed', 3);
    await bed.waitTasksParked(jobs);
    const inFlight = await bed.unfinished(jobs);
    await bed.redis.restartEmpty();
    const emptyAt = Date.now();
    await bed.waitAllFinal(jobs);
    report(`Redis SIGKILL + empty restart: ${jobs.length} jobs (every family, ${inFlight} unfinished) all final ${secondsSince(emptyAt)} s after Redis came back empty`);
    await bed.expectExactlyOnce(jobs);
  }, 180_000);

  it('Redis flushed (FLUSHALL)', async () => {
    const jobs = await bed.submitMix('redis-flushed', 3);
    await bed.waitTasksParked(jobs);
    const inFlight = await bed.unfinished(jobs);
    await bed.redis.flushAll();
    const emptyAt = Date.now();
    await bed.waitAllFinal(jobs);
    report(`Redis FLUSHALL: ${jobs.length} jobs (every family, ${inFlight} unfinished) all final ${secondsSince(emptyAt)} s after the flush`);
    await bed.expectExactlyOnce(jobs);
  }, 180_000);
});
