import { pollUntil } from '../helpers';
import { setTaskConfig } from '../tasks-helpers';
import { FaultBed, longPollFinal, report, secondsSince, SseFollower, type FaultJob } from './fault-kit';

const FINAL = ['succeeded', 'failed', 'canceled', 'expired'];

/**
 * genqueue's own processes die (issue 10, item 7, scenarios 4 and 5): the worker SIGKILLed three
 * times while jobs run, the API SIGKILLed under long polls and SSE streams.
 */
describe('fault suite: killed processes', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    // Killed from outside three times, a job may have run in all three processes: every death counts
    // against each job running then, so the crash limit (a job that kills its worker, default 2) is
    // set above the kills here; worker-crash.e2e covers the limit itself.
    bed = await FaultBed.start({ WORKER_CRASH_LIMIT: '10' });
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  });

  async function finalCount(jobs: FaultJob[]): Promise<{ final: number; running: number }> {
    const rows = [...(await bed.statuses(jobs)).values()];
    return { final: rows.filter((r) => FINAL.includes(r.status)).length, running: rows.filter((r) => r.status === 'running').length };
  }

  it('the worker SIGKILLed three times while jobs run', async () => {
    const jobs = await bed.submitMix('worker-killed', 5);
    const startedAt = Date.now();
    const kills: string[] = [];
    let finalAtLastKill = -1;
    for (let kill = 1; kill <= 3; kill += 1) {
      // kill while jobs run, and only after the previous restart has moved some job to its end
      const at = await pollUntil(
        `jobs running (and progress since kill ${kill - 1})`,
        async () => {
          const counts = await finalCount(jobs);
          return counts.running > 0 && counts.final > finalAtLastKill ? counts : undefined;
        },
        60_000,
        100,
      );
      await bed.stack.stopWorker('SIGKILL');
      kills.push(`${at.running} running/${jobs.length - at.final} unfinished`);
      finalAtLastKill = at.final;
      await bed.stack.startWorker();
    }
    await bed.waitAllFinal(jobs);
    report(`worker SIGKILLed 3 times (${kills.join('; ')}): ${jobs.length} jobs all final ${secondsSince(startedAt)} s after submit`);
    // a kill inside a task's submit window may end it upstream_submit_unknown (never a second submit)
    const finals = await bed.expectExactlyOnce(jobs, { allowSubmitUnknown: true });
    const unknown = [...finals.values()].filter((f) => f.status === 'failed').length;
    if (unknown > 0) report(`  (${unknown} task(s) killed inside the submit window: failed upstream_submit_unknown)`);
  }, 240_000);

  it('the API SIGKILLed during long polls (?wait=) and SSE streams; clients reconnect with Last-Event-ID and lose nothing', async () => {
    // tasks long enough (≈ 15 s video, ≈ 10 s MJ) to stay in flight through both kills and restarts
    await setTaskConfig(bed.stack, { video_duration_ms: 900_000, mj_duration_ms: 600_000 });
    const jobs = await bed.submitMix('api-killed', 2);
    const deadline = Date.now() + 150_000;
    const followers = jobs.map((j) => new SseFollower(bed.stack.apiUrl, bed.key, j.id, deadline));
    const polls = jobs.map((j) => longPollFinal(bed.stack.apiUrl, bed.key, j.id, deadline));
    const startedAt = Date.now();
    let restartMs = 0;
    for (let kill = 1; kill <= 2; kill += 1) {
      // every stream of an unfinished job open (again, after the last kill), some job still running: kill the API under them
      let seen = '';
      await pollUntil(
        'streams open on unfinished jobs',
        async () => {
          const open = followers.filter((f) => !f.finished);
          const counts = await finalCount(jobs);
          seen = `kill ${kill}: ${counts.final} final; followers ${followers.map((f) => `${f.finished ? 'done' : 'open'}/${f.connections}c/${f.drops}d`).join(' ')}`;
          return open.length > 0 && open.every((f) => f.connections >= kill) && counts.final < jobs.length ? true : undefined;
        },
        60_000,
        50,
      ).catch((err: Error) => {
        throw new Error(`${err.message} (${seen})`);
      });
      const killedAt = Date.now();
      await bed.stack.restartApi('SIGKILL');
      restartMs = Math.max(restartMs, Date.now() - killedAt);
    }
    const [polled] = await Promise.all([Promise.all(polls), Promise.all(followers.map((f) => f.done))]);
    report(
      `API SIGKILLed twice (back in ≤ ${(restartMs / 1000).toFixed(1)} s): ${jobs.length} SSE followers reconnected ${followers.reduce((n, f) => n + f.drops, 0)} times, ` +
        `${jobs.length} long polls saw ${polled.reduce((n, p) => n + p.errors, 0)} errors; all final ${secondsSince(startedAt)} s after submit`,
    );
    const finals = await bed.expectExactlyOnce(jobs);
    const problems: string[] = [];
    for (const [i, job] of jobs.entries()) {
      if (polled[i]!.status !== finals.get(job.id).status) problems.push(`${job.id}: long poll ended ${polled[i]!.status}`);
      // the stream saw exactly the log: every event once, in order, nothing lost across the kills
      const log = (await bed.events(job.id)).map((e) => `${e.seq} ${e.type}`);
      const streamed = followers[i]!.frames.map((f) => `${f.id} ${f.event}`);
      if (JSON.stringify(streamed) !== JSON.stringify(log)) problems.push(`${job.family} ${job.id}: streamed [${streamed.join(', ')}] vs log [${log.join(', ')}]`);
    }
    expect(problems).toEqual([]);
    expect(followers.reduce((n, f) => n + f.drops, 0)).toBeGreaterThan(0);
  }, 240_000);
});
