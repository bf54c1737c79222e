/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench [-- --quick]`: genqueue's throughput and cost per job next to a floor, a minimal
 * pipeline of the same parts (Express, pg, BullMQ, undici; no genqueue code) run on the same
 * machine in the same run, so every figure also reads as a ratio that a noisy machine disturbs less.
 *
 * Both call the simulator's image route (fast time: it answers at once). Scenarios:
 *   submit        POST at 64 connections (accepted/s, p50/p99), then a steady open-loop rate (p50/p99/max
 *                 from each request's intended send time), the worker running
 *   e2e           N image jobs through 64 connections: finished/s from first submit to last success,
 *                 submit-to-finished p50/p99, CPU ms per job of API, worker, Postgres, Redis, peak RSS
 *   e2e+webhooks  the same with a webhook per job to a local receiver (genqueue only)
 *   bulk          1,000-job requests with no worker (genqueue only)
 *   backlog       M queued jobs with no worker: Redis and Postgres bytes per job, API RSS; then a
 *                 worker drains them (jobs/s)
 * Knobs: --quick (under 2 minutes), --only=submit,e2e,… ; BENCH_E2E_JOBS, BENCH_BACKLOG_JOBS;
 * BENCH_CPU_PROF_DIR=dir profiles genqueue's API and worker (read them with bench/support/profile-top.mjs).
 * genqueue's API and worker run from their compiled bundles (dist/, rebuilt first), as in production.
 * Each scenario starts on a vacuumed database (see `vacuumed`). Prints one table and writes bench-results/bench-<date>.json. The other benches stay:
 * bench:tasks, bench:embeddings, bench:webhooks, bench:dashboard.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { freePort, REPO_ROOT, startTsProcess, TestStack, testRedisUrl, withDatabase, type ManagedProcess } from '@genqueue/testing';
import { closedLoop, openLoop, percentile, type LoadResult, type Target } from './support/load';
import { cpuSecondsNamed, cpuSecondsOf, memory } from './support/proc';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const PLAN = {
  connections: 64,
  submitSec: QUICK ? 5 : 20,
  steadyRate: QUICK ? 200 : 500,
  steadySec: QUICK ? 5 : 20,
  e2eJobs: num('BENCH_E2E_JOBS', QUICK ? 2_000 : 20_000),
  webhookJobs: QUICK ? 1_000 : 5_000,
  bulkRequests: QUICK ? 5 : 20,
  backlogJobs: num('BENCH_BACKLOG_JOBS', QUICK ? 10_000 : 100_000),
  drainSec: QUICK ? 15 : 60,
  settleCapSec: QUICK ? 60 : 240,
};
const PROFILE_DIR = process.env['BENCH_CPU_PROF_DIR'] ? path.resolve(process.env['BENCH_CPU_PROF_DIR']) : undefined;
const wants = (scenario: string) => !ONLY || ONLY.includes(scenario);
const REDIS_URL = process.env['REDIS_URL'] ?? testRedisUrl();
const ADMIN_DB = process.env['BENCH_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

type Cpu = { api: number; worker: number; postgres: number; redis: number };
type Pipeline = {
  name: 'floor' | 'genqueue';
  target: Target;
  databaseUrl: string;
  api: () => ManagedProcess;
  worker: () => ManagedProcess | null;
  finished: () => Promise<number>;
  /** jobs not final yet */
  open: () => Promise<number>;
  latenciesSince: (since: Date) => Promise<number[]>;
  stop: () => Promise<void>;
};

async function query<T extends Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * CPU seconds of the pipeline's processes now. Postgres and Redis are shared with whatever else runs
 * on the machine (other test stacks): only the backends connected to the pipeline's database and the
 * Redis server at REDIS_URL count (a backend that ended during the run is missed).
 */
async function cpuNow(p: Pipeline): Promise<Cpu & { pids: Map<number, number> }> {
  const backends = await query<{ pid: number }>(p.databaseUrl, 'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const redis = new Redis(REDIS_URL);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  redis.disconnect();
  const pids = new Map(backends.map((b) => [Number(b.pid), cpuSecondsOf(Number(b.pid))] as [number, number]).filter(([, s]) => !Number.isNaN(s)));
  return {
    api: cpuSecondsOf(p.api().child.pid),
    worker: cpuSecondsOf(p.worker()?.child.pid),
    postgres: 0,
    redis: redisPid ? cpuSecondsOf(redisPid) : cpuSecondsNamed('redis-server'),
    pids,
  };
}

function cpuMsPerJob(before: Cpu & { pids: Map<number, number> }, after: Cpu & { pids: Map<number, number> }, jobs: number): Cpu & { total: number } {
  let postgres = 0;
  // a backend that started meanwhile (a pool growing) spent all its CPU in the run
  for (const [pid, seconds] of after.pids) postgres += seconds - (before.pids.get(pid) ?? 0);
  const delta = { ...after, postgres: postgres } as Cpu;
  const base = { ...before, postgres: 0 } as Cpu;
  const per = (k: keyof Cpu) => Math.round(((delta[k] - base[k]) * 1000 * 100) / Math.max(1, jobs)) / 100;
  const out = { api: per('api'), worker: per('worker'), postgres: per('postgres'), redis: per('redis') };
  return { ...out, total: Math.round((out.api + out.worker + out.postgres + out.redis) * 100) / 100 };
}

async function until(what: string, check: () => Promise<boolean>, capSec: number): Promise<boolean> {
  const deadline = Date.now() + capSec * 1000;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.warn(`  (${what}: not done after ${capSec} s; moving on)`);
  return false;
}

const imageBody = (i: number) => ({ type: 'image.generate', input: { prompt: `a red fox number ${i}`, model: 'gpt-image-1' } });

async function startSimulator(logDir: string): Promise<{ url: string; process: ManagedProcess }> {
  const port = await freePort();
  const proc = startTsProcess('simulator', 'apps/simulator/src/main.ts', { ...process.env, SIMULATOR_PORT: String(port), SIMULATOR_FAST_TIME: '1' }, logDir);
  await proc.waitForLine('simulator.started');
  const url = `http://127.0.0.1:${port}`;
  // one image costs quota: fund the simulator for every run
  await fetch(`${url}/_sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ quota_granted: 1e15 }) });
  return { url, process: proc };
}

async function startFloor(simulatorUrl: string, logDir: string): Promise<Pipeline> {
  const dbName = `genqueue_bench_floor_${process.pid}`;
  await query(ADMIN_DB, `DROP DATABASE IF EXISTS ${dbName}`);
  await query(ADMIN_DB, `CREATE DATABASE ${dbName}`);
  const dbUrl = withDatabase(ADMIN_DB, dbName);
  await query(dbUrl, `CREATE TABLE floor_jobs (id uuid PRIMARY KEY, status text NOT NULL, input jsonb NOT NULL, output jsonb,
    created_at timestamptz(3) NOT NULL DEFAULT now(), finished_at timestamptz(3))`);
  const port = await freePort();
  const env = { ...process.env, FLOOR_DATABASE_URL: dbUrl, REDIS_URL, PORT: String(port), UPSTREAM_BASE_URL: simulatorUrl, FLOOR_PREFIX: `{floor-${process.pid}}` };
  const api = startTsProcess('floor-api', 'bench/floor/floor-api.ts', env, logDir);
  const worker = startTsProcess('floor-worker', 'bench/floor/floor-worker.ts', env, logDir);
  await Promise.all([api.waitForLine('floor.api.listening'), worker.waitForLine('floor.worker.started')]);
  return {
    name: 'floor',
    databaseUrl: dbUrl,
    target: { origin: `http://127.0.0.1:${port}`, path: '/jobs', headers: {}, body: imageBody },
    api: () => api,
    worker: () => worker,
    finished: async () => Number((await query<{ n: string }>(dbUrl, "SELECT count(*) AS n FROM floor_jobs WHERE status = 'succeeded'"))[0]?.n),
    open: async () => Number((await query<{ n: string }>(dbUrl, "SELECT count(*) AS n FROM floor_jobs WHERE status <> 'succeeded'"))[0]?.n),
    latenciesSince: async (since) =>
      (await query<{ ms: number }>(dbUrl, 'SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms FROM floor_jobs WHERE created_at >= $1 AND finished_at IS NOT NULL', [since])).map((r) => Number(r.ms)),
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await query(ADMIN_DB, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}

async function startGenqueue(simulatorUrl: string): Promise<{ pipeline: Pipeline; stack: TestStack; key: string }> {
  // the bundles are built from the sources as they are now, so a bench never measures stale code
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-processes.mjs')], { stdio: 'inherit' });
  process.env['GENQUEUE_TEST_DATABASE_URL'] ??= withDatabase(ADMIN_DB, 'genqueue_bench');
  const stack = await TestStack.start({
    env: {
      UPSTREAM_BASE_URL: simulatorUrl,
      // info logs nothing per request or per job; the stack waits for the processes' start lines
      LOG_LEVEL: 'info',
      LANE_IMAGE_CONCURRENCY: '64',
      LANE_IMAGE_RPM: '1000000',
      DEFAULT_REQUESTS_PER_MINUTE: '100000000',
      DATABASE_POOL_MAX: '20',
      SWEEP_INTERVAL_MS: '15000',
      WEBHOOK_CONCURRENCY: '100',
      // the API and worker run from their compiled bundles (dist/*.js), as production does
      GENQUEUE_RUN_BUNDLES: '1',
      // BENCH_CPU_PROF_DIR=dir: the API and worker write <pid>-<entry>.cpuprofile there on exit
      ...(PROFILE_DIR ? { NODE_OPTIONS: `--import ${path.join(__dirname, 'support', 'cpu-profile.mjs')}`, BENCH_CPU_PROF_DIR: PROFILE_DIR } : {}),
    },
  });
  const project = await stack.createProject({ requests_per_minute: 1_000_000 });
  const db = stack.databaseUrl;
  const pipeline: Pipeline = {
    name: 'genqueue',
    databaseUrl: db,
    target: { origin: stack.apiUrl, path: '/v1/jobs', headers: { authorization: `Bearer ${project.key}` }, body: imageBody },
    api: () => stack.apiProcess,
    worker: () => stack.worker,
    finished: async () => Number((await query<{ n: string }>(db, "SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'"))[0]?.n),
    open: async () => Number((await query<{ n: string }>(db, "SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')"))[0]?.n),
    latenciesSince: async (since) =>
      (await query<{ ms: number }>(db, 'SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms FROM jobs WHERE created_at >= $1 AND finished_at IS NOT NULL', [since])).map((r) => Number(r.ms)),
    stop: () => stack.stop(),
  };
  return { pipeline, stack, key: project.key };
}

/**
 * Autovacuum is off on the machines this runs on (CI's Postgres config); a production server runs it.
 * Each scenario starts on a vacuumed, analysed database, as autovacuum would keep it, so it does not
 * pay for the dead row versions of the scenarios before it (three of each job the submit scenario
 * wrote, some 70,000 in a full run: they doubled Postgres' CPU per job in the e2e that followed,
 * 2.66 against 1.13 ms).
 */
async function vacuumed(url: string): Promise<void> {
  await query(url, 'VACUUM (ANALYZE)');
}

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : NaN);
const latencySummary = (r: LoadResult) => ({ p50: round(percentile(r.latenciesMs, 50)), p99: round(percentile(r.latenciesMs, 99)), max: round(Math.max(...r.latenciesMs)) });

async function submitScenario(p: Pipeline) {
  await vacuumed(p.databaseUrl);
  const burst = await closedLoop(p.target, PLAN.connections, PLAN.submitSec);
  await until(`${p.name} drain after the burst`, async () => (await p.open()) === 0, PLAN.settleCapSec);
  const steady = await openLoop(p.target, PLAN.steadyRate, PLAN.steadySec);
  await until(`${p.name} drain after the steady run`, async () => (await p.open()) === 0, PLAN.settleCapSec);
  return {
    accepted_per_sec: round(burst.perSecond),
    burst_latency_ms: latencySummary(burst),
    burst_failed: burst.failed,
    steady_rate: PLAN.steadyRate,
    steady_latency_ms: latencySummary(steady),
    steady_failed: steady.failed,
  };
}

async function e2eScenario(p: Pipeline, jobs: number, bodyFor?: (i: number) => unknown) {
  await vacuumed(p.databaseUrl);
  const base = await p.finished();
  const since = new Date();
  const cpuBefore = await cpuNow(p);
  const started = performance.now();
  const target = bodyFor ? { ...p.target, body: bodyFor } : p.target;
  const load = await closedLoop(target, PLAN.connections, 3_600, jobs);
  await until(`${p.name} e2e`, async () => (await p.finished()) - base >= load.ok, PLAN.settleCapSec);
  const seconds = (performance.now() - started) / 1000;
  const done = (await p.finished()) - base;
  const cpu = cpuMsPerJob(cpuBefore, await cpuNow(p), done);
  const latencies = await p.latenciesSince(since);
  return {
    jobs: done,
    finished_per_sec: round(done / seconds),
    latency_ms: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
    cpu_ms_per_job: cpu,
    peak_rss_mb: { api: round(memory(p.api().child.pid).peakMb), worker: round(memory(p.worker()?.child.pid).peakMb) },
  };
}

async function startReceiver(): Promise<{ origin: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n += 1;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

async function bulkScenario(stack: TestStack, key: string) {
  await stack.stopWorker();
  await vacuumed(stack.databaseUrl);
  const body = { jobs: Array.from({ length: 1_000 }, (_, i) => imageBody(i)) };
  const started = performance.now();
  let accepted = 0;
  for (let r = 0; r < PLAN.bulkRequests; r += 1) {
    const res = await fetch(`${stack.apiUrl}/v1/jobs/bulk`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 202) accepted += ((await res.json()) as { data: { id?: string }[] }).data.filter((j) => j.id).length;
  }
  return { requests: PLAN.bulkRequests, jobs_per_request: 1_000, accepted_per_sec: round(accepted / ((performance.now() - started) / 1000)) };
}

async function backlogScenario(stack: TestStack, key: string, pipeline: Pipeline) {
  if (stack.worker) await stack.stopWorker();
  const redis = new Redis(REDIS_URL);
  const prefix = String(stack.env['QUEUE_PREFIX']);
  const redisBytes = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const dbBytes = async () => Number((await query<{ n: string }>(stack.databaseUrl, 'SELECT pg_database_size(current_database()) AS n'))[0]?.n);
  const [redisBefore, dbBefore] = [await redisBytes(), await dbBytes()];
  const body = { jobs: Array.from({ length: 1_000 }, (_, i) => imageBody(i)) };
  for (let done = 0; done < PLAN.backlogJobs; done += 1_000) {
    await fetch(`${stack.apiUrl}/v1/jobs/bulk`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
  const queued = await pipeline.open();
  const result = {
    jobs: PLAN.backlogJobs,
    redis_bytes_per_job: Math.round(((await redisBytes()) - redisBefore) / PLAN.backlogJobs),
    postgres_bytes_per_job: Math.round(((await dbBytes()) - dbBefore) / PLAN.backlogJobs),
    api_rss_mb: round(memory(stack.apiProcess.child.pid).rssMb),
    worker_idle_rss_mb: NaN,
    drain_jobs_per_sec: NaN,
    redis_prefix: prefix,
  };
  await stack.startWorker();
  result.worker_idle_rss_mb = round(memory(stack.worker?.child.pid).rssMb);
  const base = await pipeline.finished();
  const started = performance.now();
  await until('backlog drain', async () => (await pipeline.open()) === 0, PLAN.drainSec);
  result.drain_jobs_per_sec = round(((await pipeline.finished()) - base) / ((performance.now() - started) / 1000));
  redis.disconnect();
  return { ...result, queued_at_start: queued };
}

function printTable(results: Record<string, any>): void {
  const f = results['floor'] ?? {};
  const g = results['genqueue'] ?? {};
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${round(a / b, 2)}×` : '—');
  const rows: [string, unknown, unknown, string][] = [];
  if (g.submit) {
    rows.push(['submit: accepted/s at 64 connections', g.submit.accepted_per_sec, f.submit?.accepted_per_sec, ratio(g.submit.accepted_per_sec, f.submit?.accepted_per_sec)]);
    rows.push(['submit: p50 / p99 ms', `${g.submit.burst_latency_ms.p50} / ${g.submit.burst_latency_ms.p99}`, f.submit ? `${f.submit.burst_latency_ms.p50} / ${f.submit.burst_latency_ms.p99}` : '—', '']);
    rows.push([`steady ${PLAN.steadyRate}/s: p50 / p99 / max ms`, `${g.submit.steady_latency_ms.p50} / ${g.submit.steady_latency_ms.p99} / ${g.submit.steady_latency_ms.max}`, f.submit ? `${f.submit.steady_latency_ms.p50} / ${f.submit.steady_latency_ms.p99} / ${f.submit.steady_latency_ms.max}` : '—', '']);
  }
  if (g.bulk) rows.push(['bulk: jobs accepted/s (1,000 per request)', g.bulk.accepted_per_sec, '—', '']);
  if (g.e2e) {
    rows.push([`e2e: finished/s (${g.e2e.jobs} jobs)`, g.e2e.finished_per_sec, f.e2e?.finished_per_sec, ratio(g.e2e.finished_per_sec, f.e2e?.finished_per_sec)]);
    rows.push(['e2e: submit→finished p50 / p99 ms', `${g.e2e.latency_ms.p50} / ${g.e2e.latency_ms.p99}`, f.e2e ? `${f.e2e.latency_ms.p50} / ${f.e2e.latency_ms.p99}` : '—', '']);
    const cpu = (c: any) => (c ? `${c.total} (api ${c.api}, worker ${c.worker}, pg ${c.postgres}, redis ${c.redis})` : '—');
    rows.push(['e2e: CPU ms per job', cpu(g.e2e.cpu_ms_per_job), cpu(f.e2e?.cpu_ms_per_job), ratio(g.e2e.cpu_ms_per_job.total, f.e2e?.cpu_ms_per_job?.total)]);
    rows.push(['e2e: peak RSS MiB api / worker', `${g.e2e.peak_rss_mb.api} / ${g.e2e.peak_rss_mb.worker}`, f.e2e ? `${f.e2e.peak_rss_mb.api} / ${f.e2e.peak_rss_mb.worker}` : '—', '']);
  }
  if (g.e2e_webhooks) rows.push([`e2e+webhooks: finished/s (${g.e2e_webhooks.jobs} jobs)`, g.e2e_webhooks.finished_per_sec, f.e2e?.finished_per_sec, ratio(g.e2e_webhooks.finished_per_sec, f.e2e?.finished_per_sec)]);
  if (g.backlog) {
    rows.push([`backlog: Redis / Postgres bytes per queued job (${g.backlog.jobs})`, `${g.backlog.redis_bytes_per_job} / ${g.backlog.postgres_bytes_per_job}`, '—', '']);
    rows.push(['backlog: API RSS, worker idle RSS MiB', `${g.backlog.api_rss_mb} / ${g.backlog.worker_idle_rss_mb}`, '—', '']);
    rows.push(['backlog: drain jobs/s', g.backlog.drain_jobs_per_sec, '—', '']);
  }
  const widths = [52, 44, 44, 8];
  const line = (cells: unknown[]) => cells.map((c, i) => String(c ?? '—').padEnd(widths[i]!)).join(' │ ');
  console.log(`\n${line(['figure', 'genqueue', 'floor', 'ratio'])}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const logDir = path.join(os.tmpdir(), `genqueue-bench-${Date.now()}`);
  console.log(`genqueue bench${QUICK ? ' (quick)' : ''}: ${JSON.stringify(PLAN)}; logs in ${logDir}`);
  const sim = await startSimulator(logDir);
  const results: Record<string, Record<string, unknown>> = { floor: {}, genqueue: {} };
  try {
    if (wants('submit') || wants('e2e')) {
      const floor = await startFloor(sim.url, logDir);
      try {
        if (wants('submit')) results['floor']!['submit'] = await submitScenario(floor);
        if (wants('e2e')) results['floor']!['e2e'] = await e2eScenario(floor, PLAN.e2eJobs);
      } finally {
        await floor.stop();
      }
      console.log('floor done');
    }
    const { pipeline, stack, key } = await startGenqueue(sim.url);
    try {
      if (wants('submit')) results['genqueue']!['submit'] = await submitScenario(pipeline);
      if (wants('e2e')) results['genqueue']!['e2e'] = await e2eScenario(pipeline, PLAN.e2eJobs);
      if (wants('webhooks')) {
        const receiver = await startReceiver();
        results['genqueue']!['e2e_webhooks'] = {
          ...(await e2eScenario(pipeline, PLAN.webhookJobs, (i) => ({ ...imageBody(i), webhook_url: `${receiver.origin}/hook`, webhook_events: ['job.succeeded'] }))),
          deliveries_received: receiver.count(),
        };
        await receiver.close();
      }
      if (wants('bulk')) results['genqueue']!['bulk'] = await bulkScenario(stack, key);
      if (wants('backlog')) results['genqueue']!['backlog'] = await backlogScenario(stack, key, pipeline);
    } finally {
      await stack.stop();
    }
  } finally {
    await sim.process.stop();
  }
  printTable(results);
  const outDir = path.join(REPO_ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ plan: PLAN, quick: QUICK, machine: { cpus: os.cpus().length, load: os.loadavg() }, results }, null, 2));
  console.log(`\nwrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
