import { armFault, clearFaults } from '../helpers';
import { FaultBed, report, secondsSince, simTotal, type FaultJob } from './fault-kit';

/** The outage itself: the scenario's input, not a wait for some state. */
const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The gateway fails for a while (issue 10, item 7, scenarios 6 and 7): jobs wait without failing,
 * and after the outage everything finishes, once.
 */
describe('fault suite: gateway outages', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await FaultBed.start();
  }, 120_000);

  afterEach(async () => {
    await clearFaults(bed.stack);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  async function expectNoneFailed(jobs: FaultJob[]): Promise<number> {
    const rows = await bed.statuses(jobs);
    const failed = [...rows.values()].filter((row) => ['failed', 'expired', 'canceled'].includes(row.status)).map((row) => `${row.type} ${row.id}: ${row.status} ${JSON.stringify(row.error)}`);
    expect(failed).toEqual([]);
    return [...rows.values()].filter((row) => row.status !== 'succeeded').length;
  }

  async function ride(label: string, tag: string, fault: { kind: string }, durationMs: number, submitTasksDuring: boolean): Promise<void> {
    // video and MJ tasks submitted (and parked, polling) before the outage
    const before = await bed.submitMix(`${tag}-before`, 2, ['video', 'mj']);
    await bed.waitTasksParked(before);
    await armFault(bed.stack, { route: '*', ...fault, times: -1 });
    const startedAt = Date.now();
    const countersAt = await simTotal(bed.stack);
    // jobs that start during the outage
    const during = await bed.submitMix(`${tag}-during`, 2, submitTasksDuring ? undefined : ['image', 'audio', 'embedding']);
    const jobs = [...before, ...during];
    await outage(durationMs);
    const countersEnd = await simTotal(bed.stack);
    const waiting = await expectNoneFailed(jobs);
    await clearFaults(bed.stack);
    const clearedAt = Date.now();
    await bed.waitAllFinal(jobs);
    const recovery = secondsSince(clearedAt);
    const seconds = (clearedAt - startedAt) / 1000;
    const requests = countersEnd.total - countersAt.total;
    report(
      `${label}: ${jobs.length} jobs, ${waiting} waiting and none failed after ${seconds.toFixed(0)} s; ` +
        `gateway saw ${requests} requests (${(requests / seconds).toFixed(2)}/s) during the outage; all final ${recovery} s after it ended`,
    );
    await bed.expectExactlyOnce(jobs);
  }

  // Video and MJ submits are not made during the 502s: a proxy's 502 at submit is an unknown
  // outcome, which fails the job `upstream_submit_unknown` by design (issue 10, item 2).
  it('the gateway answers only 502 (HTML, from a proxy) for 60 s', async () => {
    await ride('gateway 502 for 60 s', 'gw502', { kind: 'bad_gateway_html' }, 60_000, false);
  }, 240_000);

  it('the gateway answers 403 quota errors for 30 s', async () => {
    await ride('gateway 403 quota for 30 s', 'gw403', { kind: 'quota' }, 30_000, true);
  }, 180_000);
});
