/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:lanes`: how a lane learns a gateway's rate limit. The simulator (real time, not fast
 * time: its per-minute window is a real minute) limits `images.generations` to a fixed rate per
 * minute; genqueue's image lane is configured above it, as an operator who does not know the limit
 * would. Per scenario: image jobs worth BENCH_LANES_MINUTES of the limit are submitted at once and
 * run to the end. Reported: the share of the gateway's answers that were 429, and jobs finished per
 * minute against the limit (from the first request to the last success).
 * Knobs: BENCH_LANES_MINUTES (3), BENCH_LANES_LIMITS ("30,600"), BENCH_LANES_TRACE (1: a line every 10 s).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, TestStack, withDatabase } from '@genqueue/testing';

const MINUTES = Number(process.env['BENCH_LANES_MINUTES'] ?? 3);
const LIMITS = (process.env['BENCH_LANES_LIMITS'] ?? '30,600').split(',').map(Number);
/** BENCH_LANES_TRACE=1 prints the lane every 10 s (requests, 429s, finished, learnt rate). */
const TRACE = process.env['BENCH_LANES_TRACE'] === '1';

type Result = { limit_per_minute: number; lane_max_per_minute: number; jobs: number; requests: number; answered_429: number; share_429: number; finished_per_minute: number; of_limit: number; minutes: number };

async function scenario(limit: number): Promise<Result> {
  const laneMax = limit * 4;
  const jobs = limit * MINUTES;
  const stack = await TestStack.start({
    simulatorEnv: { SIMULATOR_FAST_TIME: '0' },
    env: { LANE_IMAGE_RPM: String(laneMax), LANE_IMAGE_CONCURRENCY: '16', RATE_LIMIT_PAUSE_MS: '1000', JOB_MAX_ATTEMPTS: '5', DEFAULT_REQUESTS_PER_MINUTE: '100000' },
  });
  try {
    await stack.sim.post('/_sim/config', { body: { requests_per_minute: { 'images.generations': limit }, quota_granted: 1e15 } });
    const project = await stack.createProject({ requests_per_minute: 100_000 });
    const started = Date.now();
    for (let done = 0; done < jobs; done += 1000) {
      const batch = Array.from({ length: Math.min(1000, jobs - done) }, (_, i) => ({ type: 'image.generate', input: { prompt: `lane bench ${done + i}` } }));
      const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: batch } });
      if (res.status !== 202) throw new Error(`bulk: ${res.status} ${res.text}`);
    }
    let finished = 0;
    let nextSample = started;
    for (;;) {
      const res = await stack.api.get('/admin/v1/jobs/count?status=succeeded,failed', { key: stack.adminKey });
      finished = Number(res.body.count);
      if (TRACE && Date.now() >= nextSample) {
        nextSample += 10_000;
        const route = (await stack.sim.get('/_sim/counters')).body.routes?.['images.generations'];
        const lane = ((await stack.api.get('/admin/v1/stats', { key: stack.adminKey })).body.gateway_lanes ?? []).find((l: any) => l.lane === 'image');
        console.log(
          `  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s: requests ${route?.received ?? 0}, 429s ${route?.statuses?.['429'] ?? 0}, finished ${finished}, lane rate ${lane?.rate_per_minute}/min, accepted last minute ${lane?.accepted_last_minute}${lane?.reason ? `, held (${lane.reason})` : ''}`,
        );
      }
      if (finished >= jobs) break;
      if (Date.now() - started > (MINUTES * 3 + 2) * 60_000) throw new Error(`only ${finished} of ${jobs} jobs finished`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const minutes = (Date.now() - started) / 60_000;
    const counters = (await stack.sim.get('/_sim/counters')).body.routes['images.generations'];
    const statuses = counters.statuses as Record<string, number>;
    const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
    const succeeded = Number((await stack.api.get('/admin/v1/jobs/count?status=succeeded', { key: stack.adminKey })).body.count);
    return {
      limit_per_minute: limit,
      lane_max_per_minute: laneMax,
      jobs,
      requests,
      answered_429: statuses['429'] ?? 0,
      share_429: Number(((statuses['429'] ?? 0) / requests).toFixed(3)),
      finished_per_minute: Number((succeeded / minutes).toFixed(1)),
      of_limit: Number((succeeded / minutes / limit).toFixed(3)),
      minutes: Number(minutes.toFixed(2)),
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  process.env['GENQUEUE_TEST_DATABASE_URL'] ??= withDatabase('postgresql://postgres@127.0.0.1:5432/postgres', 'genqueue_bench_lanes');
  const results: Result[] = [];
  for (const limit of LIMITS) {
    console.log(`gateway limit ${limit}/min, lane configured at ${limit * 4}/min, ${limit * MINUTES} image jobs…`);
    results.push(await scenario(limit));
  }
  console.log('\nlimit/min │ lane max │ jobs │ requests │ 429s │ 429 share │ finished/min │ of limit │ minutes');
  for (const r of results) {
    console.log(
      [r.limit_per_minute, r.lane_max_per_minute, r.jobs, r.requests, r.answered_429, `${(r.share_429 * 100).toFixed(1)} %`, r.finished_per_minute, `${(r.of_limit * 100).toFixed(1)} %`, r.minutes].join(' │ '),
    );
  }
  const dir = path.join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `lanes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ minutes: MINUTES, results }, null, 2));
  console.log(`\nwrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
