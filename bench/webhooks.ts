/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:webhooks`: webhook delivery with its own simulator, API, worker, database and
 * BullMQ prefix, and a local receiver on 127.0.0.1 answering 200 at once.
 *
 * Phase 1 (end to end): BENCH_JOBS image jobs, each with a job webhook_url and one project endpoint
 * (both for the final event: job.succeeded or job.failed): the delay from each job's final transition (its `finished_at`, written
 * in the transaction that wrote the delivery rows) to the receiver having the whole request.
 * Phase 2 (delivery throughput): every delivery of phase 1 is redelivered at once through the
 * API; deliveries per second at the receiver, first to last arrival.
 * Prints a table, writes bench-results/webhooks-*.json.
 *
 * Knobs (env): BENCH_JOBS (500), BENCH_WEBHOOK_CONCURRENCY (50, per worker).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { TEST_ENV, TestStack } from '@genqueue/testing';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const JOBS = num('BENCH_JOBS', 500);
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

async function main(): Promise<void> {
  process.env[TEST_ENV.databaseUrl] ??= process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue_bench';
  const receiver = await startReceiver();
  const stack = await TestStack.start({
    env: {
      ALLOW_PRIVATE_URLS: 'true',
      LANE_IMAGE_CONCURRENCY: '50',
      LANE_IMAGE_RPM: '1000000',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    },
  });
  try {
    const project = await stack.createProject({ requests_per_minute: 1_000_000 });
    const endpoint = await stack.api.post('/v1/webhook-endpoints', {
      key: project.key,
      body: { url: `${receiver.origin}/endpoint`, event_types: ['job.succeeded', 'job.failed'] },
    });
    if (endpoint.status !== 201) throw new Error(`endpoint: ${endpoint.status} ${endpoint.text}`);

    // ----- phase 1: end to end -----
    const started = Date.now();
    const jobIds: string[] = [];
    for (let offset = 0; offset < JOBS; offset += 500) {
      const count = Math.min(500, JOBS - offset);
      const jobs = Array.from({ length: count }, (_, i) => ({
        type: 'image.generate',
        input: { prompt: `webhook bench fox ${offset + i}` },
        webhook_url: `${receiver.origin}/job`,
        webhook_events: ['job.succeeded', 'job.failed'],
      }));
      const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
      if (res.status !== 202) throw new Error(`bulk: ${res.status} ${res.text}`);
      for (const item of res.body.data as Array<{ id?: string; error?: unknown }>) {
        if (!item.id) throw new Error(`bulk item refused: ${JSON.stringify(item)}`);
        jobIds.push(item.id);
      }
    }
    const expected = JOBS * 2;
    await receiver.waitFor(expected, 600_000, true);
    // the first arrival of each webhook-id (a retried one may arrive again)
    const firsts = new Map<string, Arrival>();
    for (const a of receiver.arrivals) if (!firsts.has(a.webhookId)) firsts.set(a.webhookId, a);
    const phase1 = [...firsts.values()];
    const duplicates = receiver.arrivals.length - phase1.length;
    const delays = phase1.map((a) => a.at - a.finishedAt).sort((a, b) => a - b);
    const e2eSpanMs = Math.max(...phase1.map((a) => a.at)) - started;
    const distinct = phase1.length;

    // ----- phase 2: delivery throughput (redeliver everything at once) -----
    const deliveryIds: string[] = [];
    const attemptErrors: Record<string, number> = {};
    let cursor: string | null = null;
    do {
      const query: string = `/v1/webhook-deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await stack.api.get(query, { key: project.key });
      for (const d of page.body.data as Array<{ id: string; attempts: Array<{ status_code: number | null; error: string | null }> }>) {
        deliveryIds.push(d.id);
        for (const a of d.attempts) {
          if (a.status_code !== 200) {
            const reason = a.error?.slice(0, 60) ?? `status ${a.status_code}`;
            attemptErrors[reason] = (attemptErrors[reason] ?? 0) + 1;
          }
        }
      }
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    const before = receiver.arrivals.length;
    const redeliverStart = Date.now();
    const parallel = 20;
    for (let i = 0; i < deliveryIds.length; i += parallel) {
      await Promise.all(
        deliveryIds.slice(i, i + parallel).map(async (id) => {
          const res = await stack.api.post(`/v1/webhook-deliveries/${id}/redeliver`, { key: project.key, body: {} });
          if (res.status !== 202) throw new Error(`redeliver: ${res.status} ${res.text}`);
        }),
      );
    }
    const enqueuedMs = Date.now() - redeliverStart;
    await receiver.waitFor(before + deliveryIds.length, 600_000);
    const phase2 = receiver.arrivals.slice(before);
    const firstAt = Math.min(...phase2.map((a) => a.at));
    const lastAt = Math.max(...phase2.map((a) => a.at));
    const phase2PerSec = phase2.length / Math.max(0.001, (lastAt - redeliverStart) / 1000);
    const phase2SteadyPerSec = phase2.length / Math.max(0.001, (lastAt - firstAt) / 1000);

    const results = {
      at: new Date().toISOString(),
      jobs: JOBS,
      targets_per_job: 2,
      webhook_concurrency: CONCURRENCY,
      end_to_end: {
        deliveries: phase1.length,
        distinct_webhook_ids: distinct,
        repeated_arrivals: duplicates,
        failed_attempts: attemptErrors,
        span_ms: e2eSpanMs,
        deliveries_per_sec: phase1.length / (e2eSpanMs / 1000),
        delay_ms: { p50: percentile(delays, 50), p90: percentile(delays, 90), p99: percentile(delays, 99), max: delays[delays.length - 1] },
      },
      redeliver_burst: {
        deliveries: phase2.length,
        api_enqueue_ms: enqueuedMs,
        deliveries_per_sec: phase2PerSec,
        deliveries_per_sec_first_to_last: phase2SteadyPerSec,
      },
    };

    const finalTypes: Record<string, number> = {};
    for (const a of phase1) finalTypes[a.type] = (finalTypes[a.type] ?? 0) + 1;
    const rows: Array<[string, string]> = [
      ['final events delivered', JSON.stringify(finalTypes)],
      ['jobs (2 targets each)', String(JOBS)],
      ['end-to-end deliveries (distinct webhook-ids)', String(distinct)],
      ['repeated arrivals (retries after a failed attempt)', `${duplicates} ${JSON.stringify(attemptErrors)}`],
      ['end-to-end deliveries/s (bounded by job throughput)', results.end_to_end.deliveries_per_sec.toFixed(1)],
      ['final transition → receiver p50', `${results.end_to_end.delay_ms.p50} ms`],
      ['final transition → receiver p90', `${results.end_to_end.delay_ms.p90} ms`],
      ['final transition → receiver p99', `${results.end_to_end.delay_ms.p99} ms`],
      ['final transition → receiver max', `${results.end_to_end.delay_ms.max} ms`],
      ['redeliver burst: deliveries', String(phase2.length)],
      ['redeliver burst: deliveries/s (from first API call)', phase2PerSec.toFixed(1)],
      ['redeliver burst: deliveries/s (first to last arrival)', phase2SteadyPerSec.toFixed(1)],
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
    await stack.stop();
    await receiver.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
