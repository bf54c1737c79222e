/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:fairness`: one project floods the image lane with BENCH_FLOOD (400) jobs, then a
 * second project submits BENCH_TRICKLE (20) jobs, one every BENCH_TRICKLE_EVERY_MS (200 ms), while
 * the flood runs; BENCH_CONCURRENCY (2) jobs at a time, every gateway call ~BENCH_CALL_MS (60 ms).
 * Runs it twice, with FAIR_SHARING=false (FIFO within a priority) and with fair sharing, each with
 * its own simulator, API, worker, database and BullMQ prefix, and prints the trickling project's
 * start wait (created → started) p50/p99/max, and how many flood jobs started meanwhile.
 * Writes bench-results/fairness-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { TEST_ENV, TestStack } from '@genqueue/testing';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const FLOOD = num('BENCH_FLOOD', 400);
const TRICKLE = num('BENCH_TRICKLE', 20);
const TRICKLE_EVERY_MS = num('BENCH_TRICKLE_EVERY_MS', 200);
const CONCURRENCY = num('BENCH_CONCURRENCY', 2);
const CALL_MS = num('BENCH_CALL_MS', 60);

type Row = { id: string; project_id: string; created_at: Date; started_at: Date | null; status: string };

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

async function project(stack: TestStack): Promise<{ id: string; key: string }> {
  return stack.createProject({ requests_per_minute: 100_000, jobs_per_minute: 1_000_000 });
}

async function run(fair: boolean) {
  const stack = await TestStack.start({
    env: { LANE_IMAGE_CONCURRENCY: String(CONCURRENCY), LANE_IMAGE_RPM: '100000', FAIR_SHARING: String(fair) },
  });
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const clock = await stack.sim.get('/_sim/clock');
    const delayMs = clock.body.fast_time ? CALL_MS * Number(clock.body.time_factor) : CALL_MS;
    const armed = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'slow', times: -1, delay_ms: delayMs } });
    if (armed.status !== 201) throw new Error(`arm fault: ${armed.status}`);
    const flooder = await project(stack);
    const trickler = await project(stack);
    for (let i = 0; i < FLOOD; i += 1000) {
      const jobs = Array.from({ length: Math.min(1000, FLOOD - i) }, (_, j) => ({ type: 'image.generate', input: { prompt: `flood ${i + j}` } }));
      const res = await stack.api.post('/v1/jobs/bulk', { key: flooder.key, body: { jobs } });
      if (res.status !== 202) throw new Error(`bulk: ${res.status} ${res.text.slice(0, 200)}`);
    }
    const trickle: string[] = [];
    for (let i = 0; i < TRICKLE; i += 1) {
      const res = await stack.api.post('/v1/jobs', { key: trickler.key, body: { type: 'image.generate', input: { prompt: `trickle ${i}` } } });
      if (res.status !== 202) throw new Error(`submit: ${res.status}`);
      trickle.push(res.body.id as string);
      await new Promise((resolve) => setTimeout(resolve, TRICKLE_EVERY_MS));
    }
    for (const id of trickle) await stack.waitFinal(trickler.key, id, 20);
    const { rows } = await db.query<Row>('SELECT id, project_id, created_at, started_at, status FROM jobs WHERE project_id = ANY($1::text[])', [[flooder.id, trickler.id]]);
    const floodStarts = rows.filter((r) => r.project_id === flooder.id && r.started_at).map((r) => r.started_at!.getTime());
    const waits: number[] = [];
    const passed: number[] = [];
    for (const r of rows.filter((row) => row.project_id === trickler.id)) {
      const created = r.created_at.getTime();
      const started = r.started_at!.getTime();
      waits.push(started - created);
      passed.push(floodStarts.filter((t) => t > created && t < started).length);
    }
    waits.sort((a, b) => a - b);
    passed.sort((a, b) => a - b);
    return {
      mode: fair ? 'fair' : 'fifo',
      waitP50Ms: quantile(waits, 0.5),
      waitP99Ms: quantile(waits, 0.99),
      waitMaxMs: waits[waits.length - 1] ?? NaN,
      floodStartsWhileWaitingP50: quantile(passed, 0.5),
      floodStartsWhileWaitingMax: passed[passed.length - 1] ?? NaN,
    };
  } finally {
    await db.end();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  process.env[TEST_ENV.databaseUrl] ??= process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue_bench';
  const results = [await run(false), await run(true)];
  console.log(`flood ${FLOOD} jobs, trickle ${TRICKLE} jobs every ${TRICKLE_EVERY_MS} ms, concurrency ${CONCURRENCY}, gateway call ~${CALL_MS} ms`);
  console.table(results);
  const dir = path.join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `fairness-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ settings: { FLOOD, TRICKLE, TRICKLE_EVERY_MS, CONCURRENCY, CALL_MS }, results }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
