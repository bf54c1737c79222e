/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:tasks`: BENCH_VIDEO (2,000) concurrent video.generate jobs and BENCH_MJ (2,000)
 * concurrent mj.imagine jobs against the simulator in fast time, with its own simulator, API,
 * worker, database and BullMQ prefix; worker concurrency BENCH_CONCURRENCY (20) per queue.
 * Prints a table and writes bench-results/tasks-<time>.json.
 *
 * Poll settings are production's scaled by the simulator's time factor (5 s / 15 s → 83 / 250 ms),
 * so "per poll tick" means per gateway poll tick (15 s simulated, 250 ms real).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { TEST_ENV, TestStack } from '@genqueue/testing';
import { memory } from './support/proc';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const VIDEO = num('BENCH_VIDEO', 2_000);
const MJ = num('BENCH_MJ', 2_000);
const CONCURRENCY = num('BENCH_CONCURRENCY', 20);
const TIME_FACTOR = 60;
const GATEWAY_TICK_MS = 15_000 / TIME_FACTOR;

async function redisMemory(redis: Redis): Promise<{ usedMb: number; peakMb: number }> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0) / (1024 * 1024);
  return { usedMb: field('used_memory'), peakMb: field('used_memory_peak') };
}

async function submitAll(stack: TestStack, key: string, jobs: Array<{ type: string; input: Record<string, unknown> }>): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1_000) {
    const res = await stack.api.post('/v1/jobs/bulk', { key, body: { jobs: jobs.slice(i, i + 1_000) } });
    if (res.status !== 202) throw new Error(`bulk submit: ${res.status} ${res.text.slice(0, 300)}`);
    const refused = (res.body.data as Array<{ error?: unknown }>).filter((d) => d.error);
    if (refused.length > 0) throw new Error(`bulk submit refused ${refused.length}: ${JSON.stringify(refused[0])}`);
  }
}

type Row = { type: string; status: string; error: string | null; count: number; avg_run_ms: number | null; max_run_ms: number | null };

async function main(): Promise<void> {
  process.env[TEST_ENV.databaseUrl] ??= process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue_bench';
  const stack = await TestStack.start({
    env: {
      TASK_POLL_MIN_MS: String(Math.round(5_000 / TIME_FACTOR)),
      TASK_POLL_MAX_MS: String(Math.round(15_000 / TIME_FACTOR)),
      MJ_POLL_BATCH: '100',
      LANE_VIDEO_CONCURRENCY: String(CONCURRENCY),
      LANE_MJ_CONCURRENCY: String(CONCURRENCY),
      // production's lane budgets (submits 120/min, video polls 12,000/min, MJ polls 1,200/min),
      // scaled by the time factor like the poll cadence: a simulated minute lasts one real second
      LANE_VIDEO_RPM: String(120 * TIME_FACTOR),
      LANE_MJ_RPM: String(120 * TIME_FACTOR),
      LANE_VIDEO_POLL_RPM: String(12_000 * TIME_FACTOR),
      LANE_MJ_POLL_RPM: String(1_200 * TIME_FACTOR),
      SWEEP_INTERVAL_MS: '5000',
    },
    simulatorEnv: { SIMULATOR_FAST_TIME: '1', SIMULATOR_TIME_FACTOR: String(TIME_FACTOR) },
  });
  const redis = new Redis(String(stack.env['REDIS_URL']), { maxRetriesPerRequest: null });
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const workerPid = stack.worker?.child.pid;
  try {
    const project = await stack.createProject({ requests_per_minute: 1_000_000 });
    // thousands of tasks cost more than the simulator's default balance
    const funded = await stack.sim.post('/_sim/config', { body: { quota_granted: 1e15 } });
    if (funded.status !== 200) throw new Error(`sim config: ${funded.status} ${funded.text}`);
    const simConfig = (await stack.sim.get('/_sim/tasks/config')).body as Record<string, number>;
    const videoTaskMs = Number(simConfig['video_duration_ms'] ?? 90_000) / TIME_FACTOR;
    const mjTaskMs = Number(simConfig['mj_duration_ms'] ?? 45_000) / TIME_FACTOR;
    const redisBefore = await redisMemory(redis);
    const idle = memory(workerPid);

    const jobs = [
      ...Array.from({ length: VIDEO }, (_, i) => ({ type: 'video.generate', input: { prompt: `bench video ${i}`, model: 'sora-2', seconds: '4' } })),
      ...Array.from({ length: MJ }, (_, i) => ({ type: 'mj.imagine', input: { prompt: `bench mj ${i}` } })),
    ];
    const started = Date.now();
    await submitAll(stack, project.key, jobs);
    const submittedMs = Date.now() - started;
    let redisPeakSampleMb = 0;
    let workerPeakSampleMb = 0;
    for (;;) {
      const open = await db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')`);
      const mem = memory(workerPid);
      workerPeakSampleMb = Math.max(workerPeakSampleMb, mem.rssMb);
      redisPeakSampleMb = Math.max(redisPeakSampleMb, (await redisMemory(redis)).usedMb);
      if (Number(open.rows[0]?.n) === 0) break;
      if (Date.now() - started > 30 * 60_000) throw new Error('not finished after 30 min');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const wallMs = Date.now() - started;
    const worker = memory(workerPid);
    const redisAfter = await redisMemory(redis);

    const rows = (
      await db.query<Row>(
        `SELECT type, status, error->>'code' AS error, count(*)::int AS count,
                avg(extract(epoch FROM finished_at - created_at) * 1000)::int AS avg_run_ms,
                max(extract(epoch FROM finished_at - created_at) * 1000)::int AS max_run_ms
           FROM jobs GROUP BY type, status, error->>'code' ORDER BY type, status`,
      )
    ).rows;
    // where the time of a job goes: queued → started → first progress → final
    const phases = (
      await db.query(
        `SELECT j.type,
                avg(extract(epoch FROM j.started_at - j.created_at) * 1000)::int AS queued_ms,
                avg(extract(epoch FROM (SELECT min(e.created_at) FROM job_events e WHERE e.job_id = j.id AND e.type = 'job.progress') - j.started_at) * 1000)::int AS to_first_progress_ms,
                avg(extract(epoch FROM j.finished_at - j.started_at) * 1000)::int AS running_ms,
                avg(j.attempts)::float AS attempts
           FROM jobs j GROUP BY j.type`,
      )
    ).rows;
    console.table(phases);
    const sim = async (family: string) => (await stack.sim.get(`/_sim/tasks?family=${family}&summary=1`)).body;
    const [videoSim, mjSim, counters] = await Promise.all([sim('video'), sim('mj'), stack.sim.get('/_sim/counters')]);
    const routes = counters.body.routes as Record<string, { received: number }>;
    const httpRequests = (key: string) => routes[key]?.received ?? 0;

    const byFamily = (type: string) => rows.filter((r) => r.type === type);
    const avgRun = (type: string) => byFamily(type).find((r) => r.status === 'succeeded')?.avg_run_ms ?? 0;
    const mjFinished = byFamily('mj.imagine').reduce((n, r) => n + r.count, 0);
    const videoFinished = byFamily('video.generate').reduce((n, r) => n + r.count, 0);
    // gateway ticks each MJ task was in flight, summed: the denominator of "requests per task per tick"
    const mjTaskTicks = (mjFinished * avgRun('mj.imagine')) / GATEWAY_TICK_MS;
    const videoTaskTicks = (videoFinished * avgRun('video.generate')) / GATEWAY_TICK_MS;

    const result = {
      at: new Date().toISOString(),
      settings: { video: VIDEO, mj: MJ, concurrency_per_queue: CONCURRENCY, time_factor: TIME_FACTOR, gateway_tick_ms: GATEWAY_TICK_MS, poll_min_ms: Math.round(5_000 / TIME_FACTOR), poll_max_ms: Math.round(15_000 / TIME_FACTOR), mj_poll_batch: 100 },
      finished: rows,
      phases,
      all_finished: videoFinished === VIDEO && mjFinished === MJ,
      wall_ms: wallMs,
      submit_ms: submittedMs,
      simulated_task_ms: { video: videoTaskMs, mj: mjTaskMs },
      avg_job_ms: { video: avgRun('video.generate'), mj: avgRun('mj.imagine') },
      video: {
        submissions: videoSim.totals.submissions,
        status_http_requests: httpRequests('videos.status'),
        status_requests_per_finished_task: httpRequests('videos.status') / Math.max(1, videoFinished),
        status_requests_per_task_per_tick: httpRequests('videos.status') / Math.max(1, videoTaskTicks),
        content_requests: videoSim.totals.content_requests,
      },
      mj: {
        submissions: mjSim.totals.submissions,
        list_http_requests: httpRequests('mj.list'),
        fetch_http_requests: httpRequests('mj.fetch'),
        ids_polled: mjSim.totals.status_requests,
        ids_per_list_request: mjSim.totals.status_requests / Math.max(1, httpRequests('mj.list')),
        status_http_requests_per_finished_task: (httpRequests('mj.list') + httpRequests('mj.fetch')) / Math.max(1, mjFinished),
        status_http_requests_per_task_per_tick: (httpRequests('mj.list') + httpRequests('mj.fetch')) / Math.max(1, mjTaskTicks),
        image_requests: mjSim.totals.image_requests,
      },
      worker_memory_mb: { idle_rss: idle.rssMb, peak_rss_vmhwm: worker.peakMb, peak_rss_sampled: workerPeakSampleMb },
      redis_memory_mb: { before_used: redisBefore.usedMb, peak_used_sampled: redisPeakSampleMb, after_used: redisAfter.usedMb, used_memory_peak: redisAfter.peakMb },
    };

    console.log('');
    console.table(rows);
    console.table({
      'wall time (s)': { value: (wallMs / 1000).toFixed(1) },
      'simulated task duration video / mj (s)': { value: `${(videoTaskMs / 1000).toFixed(2)} / ${(mjTaskMs / 1000).toFixed(2)}` },
      'avg job time video / mj (s)': { value: `${(avgRun('video.generate') / 1000).toFixed(2)} / ${(avgRun('mj.imagine') / 1000).toFixed(2)}` },
      'video submissions / jobs': { value: `${result.video.submissions} / ${VIDEO}` },
      'mj submissions / jobs': { value: `${result.mj.submissions} / ${MJ}` },
      'video status GETs per finished task': { value: result.video.status_requests_per_finished_task.toFixed(2) },
      'video status GETs per task per gateway tick': { value: result.video.status_requests_per_task_per_tick.toFixed(3) },
      'mj list-by-condition requests (fetches)': { value: `${result.mj.list_http_requests} (${result.mj.fetch_http_requests})` },
      'mj ids per list request': { value: result.mj.ids_per_list_request.toFixed(1) },
      'mj status requests per finished task': { value: result.mj.status_http_requests_per_finished_task.toFixed(3) },
      'mj status requests per task per gateway tick': { value: result.mj.status_http_requests_per_task_per_tick.toFixed(3) },
      'worker peak RSS (VmHWM, MiB)': { value: worker.peakMb.toFixed(0) },
      'redis used_memory sampled peak / used_memory_peak (MiB)': { value: `${redisPeakSampleMb.toFixed(1)} / ${redisAfter.peakMb.toFixed(1)}` },
    });
    const dir = path.join(process.cwd(), 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `tasks-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${file}`);
    if (!result.all_finished) process.exitCode = 1;
  } finally {
    await db.end().catch(() => undefined);
    redis.disconnect();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
