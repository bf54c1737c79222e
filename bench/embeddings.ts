/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:embeddings`: one embedding.batch of BENCH_INPUTS (1,000,000) JSONL lines against
 * the simulator limited to BENCH_RPM requests a minute (real time, no fast time), with its own
 * simulator, API, worker, database and BullMQ prefix. Prints a table, writes bench-results/*.json.
 *
 * Knobs (env): BENCH_INPUTS, BENCH_CHUNK_SIZE (1000), BENCH_RPM (600), BENCH_DIMENSIONS (8),
 * BENCH_CONCURRENCY (4, the embedding lane). genqueue's API and worker run from their compiled
 * bundles (dist/, rebuilt first), as in production; BENCH_RUN_TS=1 runs the TypeScript under tsx.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, TEST_ENV, TestStack } from '@genqueue/testing';
import { cpuSecondsOf, memory } from './support/proc';

const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const INPUTS = num('BENCH_INPUTS', 1_000_000);
const CHUNK_SIZE = num('BENCH_CHUNK_SIZE', 1_000);
const RPM = num('BENCH_RPM', 600);
const DIMENSIONS = num('BENCH_DIMENSIONS', 8);
const CONCURRENCY = num('BENCH_CONCURRENCY', 4);
const RUN_BUNDLES = process.env['BENCH_RUN_TS'] !== '1';
const MB = 1024 * 1024;
/** lets the bench read the worker's /metrics (its heap, beside the RSS read from /proc) */
const METRICS_TOKEN = 'bench-embeddings-metrics';

type HeapSample = { heapUsedMb: number; heapTotalMb: number; externalMb: number };

/** The worker's V8 heap and external memory from its /metrics (prom-client's default metrics); null when unreadable. */
async function workerHeap(workerUrl: string | null): Promise<HeapSample | null> {
  if (!workerUrl) return null;
  try {
    const res = await fetch(`${workerUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await res.text();
    const gauge = (name: string) => Number(new RegExp(`^genqueue_worker_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / MB;
    return { heapUsedMb: gauge('nodejs_heap_size_used_bytes'), heapTotalMb: gauge('nodejs_heap_size_total_bytes'), externalMb: gauge('nodejs_external_memory_bytes') };
  } catch {
    return null;
  }
}

async function writeInputs(file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for (let i = 0; i < INPUTS; i += 1) {
    const line = `${JSON.stringify({ custom_id: `item-${i}`, input: `benchmark sentence number ${i} about ${(i * 7919) % 1000} things` })}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

async function main(): Promise<void> {
  process.env[TEST_ENV.databaseUrl] ??= process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue_bench';
  const work = mkdtempSync(path.join(tmpdir(), 'genqueue-bench-'));
  const inputFile = path.join(work, 'inputs.jsonl');
  const fileBytes = await writeInputs(inputFile);
  console.log(`generated ${INPUTS} lines (${(fileBytes / MB).toFixed(1)} MiB) in ${inputFile}`);

  // the bundles are built from the sources as they are now, so a bench never measures stale code
  if (RUN_BUNDLES) execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-processes.mjs')], { stdio: 'inherit' });
  const stack = await TestStack.start({
    env: {
      ...(RUN_BUNDLES ? { GENQUEUE_RUN_BUNDLES: '1' } : {}),
      LANE_EMBEDDING_RPM: String(RPM),
      LANE_EMBEDDING_CONCURRENCY: String(CONCURRENCY),
      RATE_LIMIT_PAUSE_MS: '1000',
      UPLOAD_LIMIT_BATCH_MB: '512',
      METRICS_TOKEN,
    },
    withWorkerHttp: true,
    simulatorEnv: { SIMULATOR_FAST_TIME: '0' },
  });
  const apiPid = (stack as unknown as { processes: { api: { child: { pid?: number } } } }).processes.api.child.pid;
  const workerPid = stack.worker?.child.pid;
  try {
    const project = await stack.createProject({ requests_per_minute: 100_000 });
    const config = await stack.sim.post('/_sim/config', { body: { requests_per_minute: { embeddings: RPM } } });
    if (config.status !== 200) throw new Error(`sim config: ${config.status} ${config.text}`);
    const idle = { api: memory(apiPid), worker: memory(workerPid) };

    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', await openAsBlob(inputFile, { type: 'application/jsonl' }), 'inputs.jsonl');
    const uploadStart = Date.now();
    const upload = await fetch(`${stack.apiUrl}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${project.key}` }, body: form });
    const file = (await upload.json()) as { id: string };
    if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${JSON.stringify(file)}`);
    const uploadMs = Date.now() - uploadStart;

    const workerCpuStart = cpuSecondsOf(workerPid);
    const submitStart = Date.now();
    const submitted = await stack.api.post('/v1/jobs', {
      key: project.key,
      body: { type: 'embedding.batch', input: { file_id: file.id, dimensions: DIMENSIONS, chunk_size: CHUNK_SIZE } },
    });
    if (submitted.status !== 202) throw new Error(`submit: ${submitted.status} ${submitted.text}`);
    const validateMs = Date.now() - submitStart;
    const jobId = submitted.body.id as string;

    const samples: Array<{ t: number; api: number; worker: number; progress: number; heap: HeapSample | null }> = [];
    let job: any;
    for (;;) {
      const res = await stack.api.get(`/v1/jobs/${jobId}?wait=1`, { key: project.key });
      job = res.body;
      samples.push({ t: Date.now() - submitStart, api: memory(apiPid).rssMb, worker: memory(workerPid).rssMb, progress: job.progress, heap: await workerHeap(stack.workerUrl) });
      if (['succeeded', 'failed', 'canceled', 'expired'].includes(job.status)) break;
      if (samples.length % 10 === 0) console.log(`  ${((Date.now() - submitStart) / 1000).toFixed(0)} s progress ${job.progress}%`);
    }
    const wallMs = Date.now() - submitStart;
    const workerCpuS = cpuSecondsOf(workerPid) - workerCpuStart;
    const limits = (await stack.sim.get('/_sim/limits')).body.keys?.embeddings ?? {};
    const embedTotals = (await stack.sim.get('/_sim/embeddings?recent=1')).body.totals;
    const peak = { api: memory(apiPid).peakMb, worker: memory(workerPid).peakMb };
    const chunks = Math.ceil(INPUTS / CHUNK_SIZE);
    const floorMs = (chunks / RPM) * 60_000;
    const requestSpanMs = (limits.last_allowed_at_ms ?? 0) - (limits.first_allowed_at_ms ?? 0);
    // requests k = 1..R at a steady N/min: the R-th comes (R − 1) / N minutes after the first
    const spanFloorMs = ((chunks - 1) / RPM) * 60_000;

    const result = {
      parameters: { inputs: INPUTS, chunk_size: CHUNK_SIZE, dimensions: DIMENSIONS, requests_per_minute: RPM, lane_concurrency: CONCURRENCY, model: 'text-embedding-3-small', processes: RUN_BUNDLES ? 'bundles' : 'tsx' },
      job: { id: jobId, status: job.status, output: job.output, error: job.error },
      file_mib: +(fileBytes / MB).toFixed(1),
      upload_s: +(uploadMs / 1000).toFixed(1),
      submit_validation_s: +(validateMs / 1000).toFixed(1),
      chunks,
      wall_s: +(wallMs / 1000).toFixed(1),
      floor_s: +(floorMs / 1000).toFixed(1),
      wall_vs_floor: +(wallMs / floorMs).toFixed(3),
      request_span_s: +(requestSpanMs / 1000).toFixed(1),
      request_span_floor_s: +(spanFloorMs / 1000).toFixed(1),
      rate_used_pct: +((100 * spanFloorMs) / Math.max(1, requestSpanMs)).toFixed(1),
      rate_used_overall_pct: +((100 * floorMs) / wallMs).toFixed(1),
      worker_cpu_s: +workerCpuS.toFixed(1),
      gateway: { allowed: limits.allowed, limited_429: limits.limited, embedded: embedTotals?.embedded, failed_requests: embedTotals?.failed },
      rss_mb: {
        api_idle: +idle.api.rssMb.toFixed(0),
        api_peak: +peak.api.toFixed(0),
        worker_idle: +idle.worker.rssMb.toFixed(0),
        worker_peak: +peak.worker.toFixed(0),
        api_max_sampled: +Math.max(...samples.map((s) => s.api)).toFixed(0),
        worker_max_sampled: +Math.max(...samples.map((s) => s.worker)).toFixed(0),
        worker_heap_used_max: +Math.max(...samples.map((s) => s.heap?.heapUsedMb ?? 0)).toFixed(0),
        worker_heap_total_max: +Math.max(...samples.map((s) => s.heap?.heapTotalMb ?? 0)).toFixed(0),
        worker_external_max: +Math.max(...samples.map((s) => s.heap?.externalMb ?? 0)).toFixed(0),
      },
      rss_timeline: samples
        .filter((_, i) => i % 5 === 0)
        .map((s) => ({
          t_s: +(s.t / 1000).toFixed(0),
          api_mb: +s.api.toFixed(0),
          worker_mb: +s.worker.toFixed(0),
          worker_heap_used_mb: +(s.heap?.heapUsedMb ?? 0).toFixed(0),
          worker_heap_total_mb: +(s.heap?.heapTotalMb ?? 0).toFixed(0),
          worker_external_mb: +(s.heap?.externalMb ?? 0).toFixed(0),
          progress: s.progress,
        })),
    };

    const rows: Array<[string, string]> = [
      ['inputs / chunk size / chunks', `${INPUTS} / ${CHUNK_SIZE} / ${chunks}`],
      ['gateway limit (embeddings)', `${RPM} requests/min, lane concurrency ${CONCURRENCY}`],
      ['job', `${job.status}: ${job.output?.succeeded ?? 0} succeeded, ${job.output?.failed ?? 0} failed`],
      ['upload / submit validation', `${result.upload_s} s / ${result.submit_validation_s} s (${result.file_mib} MiB)`],
      ['wall time (submit → final)', `${result.wall_s} s`],
      ['floor (chunks ÷ rate)', `${result.floor_s} s (wall/floor ${result.wall_vs_floor})`],
      ['first → last request', `${result.request_span_s} s (floor ${result.request_span_floor_s} s)`],
      ['share of allowed rate used', `${result.rate_used_pct} % while requesting, ${result.rate_used_overall_pct} % overall`],
      ['429s met (limiter)', String(limits.limited ?? 0)],
      ['worker CPU (submit → final)', `${result.worker_cpu_s} s`],
      ['API RSS idle → peak', `${result.rss_mb.api_idle} → ${result.rss_mb.api_peak} MB`],
      ['worker RSS idle → peak', `${result.rss_mb.worker_idle} → ${result.rss_mb.worker_peak} MB`],
      ['worker heap used / total / external (max)', `${result.rss_mb.worker_heap_used_max} / ${result.rss_mb.worker_heap_total_max} / ${result.rss_mb.worker_external_max} MB`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nembedding.batch bench\n${'-'.repeat(width + 40)}`);
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    mkdirSync('bench-results', { recursive: true });
    const out = path.join('bench-results', `embeddings-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${out} (logs: ${stack.logDir})`);
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
