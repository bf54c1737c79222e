/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:webhooks`: webhook delivery with its own simulator, API, worker, database and
 * BullMQ prefix, and a local receiver on 127.0.0.1 answering 200 at once.
 *
 * Every image job has a job webhook_url and the project has one endpoint, both for the final event
 * (job.succeeded or job.failed): two deliveries per job. The delay is measured from each job's final
 * transition (its `finished_at`, written in the transaction that wrote the delivery rows) to the
 * receiver having the whole request.
 *
 * Phase 1 (steady): BENCH_STEADY_JOBS jobs submitted one by one at BENCH_STEADY_RATE per second:
 *   the delay when deliveries do not queue behind each other.
 * Phase 2 (burst): BENCH_JOBS jobs submitted at once (bulk): the delay when the worker is busy with
 *   the jobs and their deliveries at the same time, and deliveries per second end to end.
 * Phase 3 (drain): the worker is stopped, every delivery of phase 2 is redelivered through the API,
 *   and a new worker drains the backlog: deliveries per second first to last arrival, and the
 *   worker's CPU time per delivery (from /proc, which a loaded machine does not inflate as much).
 * Prints a table, writes bench-results/webhooks-*.json.
 *
 * Knobs (env): BENCH_JOBS (500), BENCH_STEADY_JOBS (100), BENCH_STEADY_RATE (10 per second),
 * BENCH_SPLIT_WORKERS (1: jobs in one worker process, deliveries in another: WORKER_QUEUES),
 * BENCH_WEBHOOK_CONCURRENCY (50, per worker), BENCH_CPU_PROF_DIR (write CPU profiles of the API and
 * worker there; the worker's starts anew with phase 3).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startTsProcess, TEST_ENV, TestStack, type ManagedProcess } from '@genqueue/testing';
import { cpuSecondsOf } from './support/proc';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const JOBS = num('BENCH_JOBS', 500);
const STEADY_JOBS = num('BENCH_STEADY_JOBS', 100);
const STEADY_RATE = num('BENCH_STEADY_RATE', 10);
const SPLIT_WORKERS = process.env['BENCH_SPLIT_WORKERS'] === '1';
const CONCURRENCY = num('BENCH_WEBHOOK_CONCURRENCY', 50);

type Arrival = { webhookId: string; path: string; at: number; finishedAt: number; type: string };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

type BenchReceiver = {
  origin: string;
  arrivals: Arrival[];
  /** until `n` requests arrived (or, with `distinct`, `n` different webhook-ids) */
  waitFor: (n: number, timeoutMs: number, distinct?: boolean) => Promise<void>;
  close: () => Promise<void>;
};

async function startReceiver(): Promise<BenchReceiver> {
  const arrivals: Arrival[] = [];
  let wake: (() => void) | null = null;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; data: { finished_at: string } };
      arrivals.push({ webhookId: String(req.headers['webhook-id']), path: req.url ?? '', at, finishedAt: Date.parse(body.data.finished_at), type: body.type });
      res.end('ok');
      wake?.();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    arrivals,
    waitFor: (n, timeoutMs, distinct = false) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${arrivals.length} of ${n} within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if ((distinct ? new Set(arrivals.map((a) => a.webhookId)).size : arrivals.length) < n) return;
          clearTimeout(timer);
          wake = null;
          resolve();
        };
        wake = check;
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Project = { key: string };

type DelayStats = { p50: number; p90: number; p99: number; max: number };

function delayStats(arrivals: readonly Arrival[]): DelayStats {
  const delays = arrivals.map((a) => a.at - a.finishedAt).sort((a, b) => a - b);
  return { p50: percentile(delays, 50), p90: percentile(delays, 90), p99: percentile(delays, 99), max: delays[delays.length - 1] ?? NaN };
}

/** The first arrival of each webhook-id among `arrivals` (a retried delivery may arrive again). */
function firstArrivals(arrivals: readonly Arrival[]): Arrival[] {
  const firsts = new Map<string, Arrival>();
  for (const a of arrivals) if (!firsts.has(a.webhookId)) firsts.set(a.webhookId, a);
  return [...firsts.values()];
}

const jobBody = (origin: string, n: number) => ({
  type: 'image.generate',
  input: { prompt: `webhook bench fox ${n}` },
  webhook_url: `${origin}/job`,
  webhook_events: ['job.succeeded', 'job.failed'],
});

async function submitPaced(stack: TestStack, project: Project, origin: string, count: number, perSecond: number): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const res = await stack.api.post('/v1/jobs', { key: project.key, body: jobBody(origin, i) });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
  }
}

async function submitBulk(stack: TestStack, project: Project, origin: string, count: number): Promise<void> {
  for (let offset = 0; offset < count; offset += 500) {
    const jobs = Array.from({ length: Math.min(500, count - offset) }, (_, i) => jobBody(origin, 1_000_000 + offset + i));
    const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
    if (res.status !== 202) throw new Error(`bulk: ${res.status} ${res.text}`);
    const refused = (res.body.data as Array<{ id?: string }>).filter((item) => !item.id);
    if (refused.length > 0) throw new Error(`bulk items refused: ${JSON.stringify(refused[0])}`);
  }
}

/** Every delivery id of the project, and a count of the failed attempts by reason. */
async function listDeliveries(stack: TestStack, project: Project): Promise<{ ids: string[]; attemptErrors: Record<string, number> }> {
  const ids: string[] = [];
  const attemptErrors: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const query: string = `/v1/webhook-deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await stack.api.get(query, { key: project.key });
    for (const d of page.body.data as Array<{ id: string; attempts: Array<{ status_code: number | null; error: string | null }> }>) {
      ids.push(d.id);
      for (const a of d.attempts) {
        if (a.status_code === 200) continue;
        const reason = a.error?.slice(0, 60) ?? `status ${a.status_code}`;
        attemptErrors[reason] = (attemptErrors[reason] ?? 0) + 1;
      }
    }
    cursor = page.body.next_cursor as string | null;
  } while (cursor);
  return { ids, attemptErrors };
}

/** Error codes of the project's failed jobs (a healthy run has none). */
async function failedJobCodes(stack: TestStack, project: Project): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const query: string = `/v1/jobs?status=failed&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await stack.api.get(query, { key: project.key });
    for (const job of page.body.data as Array<{ error: { code: string; message: string } | null }>) {
      const key = `${job.error?.code}: ${job.error?.message.slice(0, 80)}`;
      codes[key] = (codes[key] ?? 0) + 1;
    }
    cursor = page.body.next_cursor as string | null;
  } while (cursor);
  return codes;
}

async function redeliverAll(stack: TestStack, project: Project, ids: readonly string[]): Promise<void> {
  const parallel = 20;
  for (let i = 0; i < ids.length; i += parallel) {
    await Promise.all(
      ids.slice(i, i + parallel).map(async (id) => {
        const res = await stack.api.post(`/v1/webhook-deliveries/${id}/redeliver`, { key: project.key, body: {} });
        if (res.status !== 202) throw new Error(`redeliver: ${res.status} ${res.text}`);
      }),
    );
  }
}

async function main(): Promise<void> {
  process.env[TEST_ENV.databaseUrl] ??= process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue_bench';
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const receiver = await startReceiver();
  const stack = await TestStack.start({
    env: {
      ALLOW_PRIVATE_URLS: 'true',
      LANE_IMAGE_CONCURRENCY: '50',
      LANE_IMAGE_RPM: '1000000',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
      DATABASE_POOL_MAX: '20',
      ...(profileDir ? { NODE_OPTIONS: `--import ${path.join(__dirname, 'support', 'cpu-profile.mjs')}`, BENCH_CPU_PROF_DIR: path.resolve(profileDir) } : {}),
    },
    withoutWorker: SPLIT_WORKERS,
  });
  // the process that sends the deliveries: the stack's worker, or one of its own
  let deliveryWorker: ManagedProcess | null = null;
  const startDeliveryWorker = async (): Promise<ManagedProcess> => {
    if (!SPLIT_WORKERS) return stack.startWorker();
    const started = startTsProcess('worker-webhooks', 'apps/worker/src/main.ts', { ...stack.env, WORKER_QUEUES: 'webhooks' }, stack.logDir);
    await started.waitForLine('worker.started', 60_000);
    return started;
  };
  const stopDeliveryWorker = async (): Promise<void> => {
    if (!SPLIT_WORKERS) return stack.stopWorker();
    await deliveryWorker?.stop();
  };
  if (SPLIT_WORKERS) {
    await stack.startWorker({ WORKER_QUEUES: 'image' });
    deliveryWorker = await startDeliveryWorker();
  }
  try {
    const project = await stack.createProject({ requests_per_minute: 1_000_000 });
    // more images than the simulator's default balance pays for
    const funded = await stack.sim.post('/_sim/config', { body: { quota_granted: 1e15 } });
    if (funded.status !== 200) throw new Error(`sim config: ${funded.status} ${funded.text}`);
    const endpoint = await stack.api.post('/v1/webhook-endpoints', {
      key: project.key,
      body: { url: `${receiver.origin}/endpoint`, event_types: ['job.succeeded', 'job.failed'] },
    });
    if (endpoint.status !== 201) throw new Error(`endpoint: ${endpoint.status} ${endpoint.text}`);

    // ----- phase 1: steady -----
    await submitPaced(stack, project, receiver.origin, STEADY_JOBS, STEADY_RATE);
    await receiver.waitFor(STEADY_JOBS * 2, 600_000, true);
    const steady = firstArrivals(receiver.arrivals);

    // ----- phase 2: burst -----
    const burstFrom = receiver.arrivals.length;
    const burstStarted = Date.now();
    await submitBulk(stack, project, receiver.origin, JOBS);
    await receiver.waitFor((STEADY_JOBS + JOBS) * 2, 600_000, true);
    const seen = new Set(steady.map((a) => a.webhookId));
    const burst = firstArrivals(receiver.arrivals.slice(burstFrom)).filter((a) => !seen.has(a.webhookId));
    const burstSpanMs = Math.max(...burst.map((a) => a.at)) - burstStarted;
    const { ids: allIds, attemptErrors } = await listDeliveries(stack, project);
    const repeated = receiver.arrivals.length - firstArrivals(receiver.arrivals).length;
    const failedJobs = await failedJobCodes(stack, project);

    // ----- phase 3: drain a backlog -----
    await stopDeliveryWorker();
    const drainFrom = receiver.arrivals.length;
    await redeliverAll(stack, project, allIds);
    const worker = await startDeliveryWorker();
    deliveryWorker = worker;
    const workerCpuBefore = cpuSecondsOf(worker.child.pid);
    await receiver.waitFor(drainFrom + allIds.length, 600_000);
    const workerCpuMsPerDelivery = ((cpuSecondsOf(worker.child.pid) - workerCpuBefore) * 1000) / allIds.length;
    const drained = receiver.arrivals.slice(drainFrom);
    const drainSpanMs = Math.max(...drained.map((a) => a.at)) - Math.min(...drained.map((a) => a.at));

    const results = {
      at: new Date().toISOString(),
      cpus: (await import('node:os')).cpus().length,
      loadavg_at_end: (await import('node:os')).loadavg(),
      webhook_concurrency: CONCURRENCY,
      split_workers: SPLIT_WORKERS,
      targets_per_job: 2,
      steady: { jobs: STEADY_JOBS, jobs_per_sec: STEADY_RATE, deliveries: steady.length, delay_ms: delayStats(steady) },
      burst: {
        jobs: JOBS,
        deliveries: burst.length,
        span_ms: burstSpanMs,
        deliveries_per_sec: burst.length / (burstSpanMs / 1000),
        delay_ms: delayStats(burst),
      },
      drain: {
        deliveries: drained.length,
        span_ms: drainSpanMs,
        deliveries_per_sec: drained.length / Math.max(0.001, drainSpanMs / 1000),
        worker_cpu_ms_per_delivery: workerCpuMsPerDelivery,
      },
      repeated_arrivals: repeated,
      failed_attempts: attemptErrors,
      failed_jobs: failedJobs,
    };

    const ms = (v: number) => `${Math.round(v)} ms`;
    const rows: Array<[string, string]> = [
      ['steady: jobs at a paced rate', `${STEADY_JOBS} at ${STEADY_RATE}/s, ${steady.length} deliveries`],
      ['steady: final transition → receiver p50 / p99', `${ms(results.steady.delay_ms.p50)} / ${ms(results.steady.delay_ms.p99)}`],
      ['burst: jobs submitted at once', `${JOBS}, ${burst.length} deliveries`],
      ['burst: final transition → receiver p50 / p99', `${ms(results.burst.delay_ms.p50)} / ${ms(results.burst.delay_ms.p99)}`],
      ['burst: deliveries/s end to end (bounded by jobs)', results.burst.deliveries_per_sec.toFixed(1)],
      ['drain: backlog delivered', String(drained.length)],
      ['drain: deliveries/s (first to last arrival)', results.drain.deliveries_per_sec.toFixed(1)],
      ['drain: worker CPU per delivery', `${workerCpuMsPerDelivery.toFixed(2)} ms`],
      ['repeated arrivals (same webhook-id again)', String(repeated)],
      ['failed attempts', JSON.stringify(attemptErrors)],
      ['failed jobs', JSON.stringify(failedJobs)],
      ['worker processes', SPLIT_WORKERS ? 'two: jobs (WORKER_QUEUES=image), deliveries (WORKER_QUEUES=webhooks)' : 'one: jobs and deliveries'],
      ['machine', `${results.cpus} CPUs, load ${results.loadavg_at_end.map((l) => l.toFixed(1)).join(' ')}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('\nwebhooks benchmark');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    const dir = path.resolve(__dirname, '..', 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `webhooks-${results.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } finally {
    if (SPLIT_WORKERS) await deliveryWorker?.stop();
    await stack.stop();
    await receiver.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
