/* eslint-disable no-console -- a command-line entry point: the printed table is its output */
/**
 * `npm run bench:dashboard`: the admin dashboard's reads on a big history.
 *
 * Uses the seeded history database (genqueue_history; seeded first when it holds fewer than
 * BENCH_JOBS jobs), starts the API process on it, and times each admin read over HTTP the way the
 * dashboard calls it: BENCH_REQUESTS sequential requests after 3 warm-ups, p50 / p95 / max.
 * Prints a table, writes bench-results/dashboard-*.json with the EXPLAIN (ANALYZE, BUFFERS) of the
 * word searches and the deep page.
 *
 * Knobs (env): BENCH_JOBS (1000000), BENCH_QUICK=1 (100000 jobs, 15 requests), BENCH_REQUESTS (30),
 * BENCH_DATABASE_URL (default the history database), BENCH_TARGET_P95_MS (300).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { encodeListCursor } from '@genqueue/core';
import { createPrismaClient, jobListSql, Prisma, type JobListFilter } from '@genqueue/db';
import { freePort, startTsProcess, testRedisUrl } from '@genqueue/testing';
import { countJobs, DEFAULT_HISTORY_DATABASE_URL, seedHistory } from '../scripts/seed-history/seed';
import { COMMON_WORD, RARE_WORD } from '../scripts/seed-history/vocabulary';

const QUICK = process.env['BENCH_QUICK'] === '1';
const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const JOBS = num('BENCH_JOBS', QUICK ? 100_000 : 1_000_000);
const REQUESTS = num('BENCH_REQUESTS', QUICK ? 15 : 30);
const WARMUPS = 3;
const TARGET_P95_MS = num('BENCH_TARGET_P95_MS', 300);
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? DEFAULT_HISTORY_DATABASE_URL;
const DAY_MS = 86_400_000;

type Timing = { name: string; path: string; p50: number; p95: number; max: number; answer: string };

/** What a response held, so the table shows each route answered something real. */
function answerOf(body: any): string {
  if (Array.isArray(body?.data)) return `${body.data.length} jobs${body.next_cursor ? ', more' : ''}`;
  if (body?.object === 'count') return `count ${body.count}`;
  if (body?.object === 'stats') return `${Object.values(body.jobs_by_status as Record<string, number>).reduce((a, b) => a + b, 0)} jobs counted`;
  return '?';
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

class AdminClient {
  constructor(
    private readonly origin: string,
    private readonly key: string,
  ) {}

  async get(pathAndQuery: string): Promise<any> {
    const res = await fetch(`${this.origin}${pathAndQuery}`, { headers: { authorization: `Bearer ${this.key}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${pathAndQuery}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  /** Warm-ups, then `REQUESTS` timed requests one after another. */
  async time(name: string, pathAndQuery: string): Promise<Timing> {
    let answer = '';
    for (let i = 0; i < WARMUPS; i++) answer = answerOf(await this.get(pathAndQuery));
    const ms: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await this.get(pathAndQuery);
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    return { name, path: pathAndQuery, p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms[ms.length - 1]!, answer };
  }
}

/** The cursor of the page after `pages` pages of 50 from the top: a deep page, reached as a user would. */
async function cursorAfterPages(client: AdminClient, pages: number): Promise<string> {
  let cursor: string | null = null;
  for (let i = 0; i < pages; i++) {
    const page: { next_cursor: string | null } = await client.get(`/admin/v1/jobs?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    if (!page.next_cursor) throw new Error(`the history ends before page ${i + 1}`);
    cursor = page.next_cursor;
  }
  return cursor!;
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const existing = await countJobs(DATABASE_URL).catch(() => 0);
  let seed: { added: number; seconds: number } | null = null;
  if (existing < JOBS) {
    console.log(`bench: the history database holds ${existing} jobs, seeding up to ${JOBS}`);
    seed = await seedHistory({ databaseUrl: DATABASE_URL, jobs: JOBS, projects: 5, log: (line) => console.log(line) });
  }
  const jobCount = await countJobs(DATABASE_URL);

  const prisma = createPrismaClient(DATABASE_URL, { poolMax: 2 });
  const logDir = mkdtempSync(path.join(tmpdir(), 'genqueue-bench-dashboard-'));
  const port = await freePort();
  const adminKey = `gqa_bench_${randomBytes(16).toString('hex')}`;
  const api = startTsProcess(
    'api',
    'apps/api/src/main.ts',
    {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: `gqb-${randomBytes(4).toString('hex')}`,
      STORAGE_DIR: path.join(logDir, 'artifacts'),
      UPSTREAM_BASE_URL: 'http://127.0.0.1:9',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'info',
    },
    logDir,
  );
  try {
    await api.waitForLine('api.listening', 120_000);
    const client = new AdminClient(`http://127.0.0.1:${port}`, adminKey);

    // what to look for: a job from the middle of the history, and a cursor 20 days back
    const [sample] = await prisma.$queryRaw<Array<{ id: string }>>`
      SELECT id FROM jobs WHERE created_at < now() - interval '15 days' ORDER BY created_at DESC LIMIT 1`;
    if (!sample) throw new Error('the history has no job older than 15 days');
    const twentyDaysBack = encodeListCursor({ createdAt: new Date(Date.now() - 20 * DAY_MS), id: `job_${'Z'.repeat(26)}` });
    const deepCursor = await cursorAfterPages(client, 50);

    const routes: Array<[string, string]> = [
      ['jobs: first page', '/admin/v1/jobs?limit=50'],
      ['jobs: page 51 (cursor after 50 pages)', `/admin/v1/jobs?limit=50&cursor=${deepCursor}`],
      ['jobs: page from 20 days back', `/admin/v1/jobs?limit=50&cursor=${twentyDaysBack}`],
      ['jobs: status + type', '/admin/v1/jobs?limit=50&status=failed&type=video.generate'],
      ['jobs: two statuses', '/admin/v1/jobs?limit=50&status=failed,canceled'],
      ['jobs: metadata (common value)', '/admin/v1/jobs?limit=50&metadata[env]=staging'],
      ['jobs: metadata (rare value)', '/admin/v1/jobs?limit=50&metadata[user]=u_4200'],
      [`jobs: q = common word "${COMMON_WORD}"`, `/admin/v1/jobs?limit=50&q=${COMMON_WORD}`],
      [`jobs: q = rare word "${RARE_WORD}"`, `/admin/v1/jobs?limit=50&q=${RARE_WORD}`],
      ['jobs: q = two words "red fox"', '/admin/v1/jobs?limit=50&q=red%20fox'],
      ['jobs: q = a job id', `/admin/v1/jobs?limit=50&q=${sample.id}`],
      ['stats', '/admin/v1/stats'],
      ['jobs/count: status + type', '/admin/v1/jobs/count?status=failed&type=image.generate'],
      ['jobs/count: metadata (rare value)', '/admin/v1/jobs/count?metadata[user]=u_4200'],
      // counts no index answers alone: every matching row is visited
      ['jobs/count: created in the last 7 days', `/admin/v1/jobs/count?created_after=${new Date(Date.now() - 7 * DAY_MS).toISOString()}`],
      [`jobs/count: q = common word "${COMMON_WORD}"`, `/admin/v1/jobs/count?q=${COMMON_WORD}`],
    ];
    const timings: Timing[] = [];
    for (const [name, route] of routes) timings.push(await client.time(name, route));

    const explain = async (filter: JobListFilter, cursor: string | null = null): Promise<string> => {
      const rows = await prisma.$queryRaw<Array<{ 'QUERY PLAN': string }>>(Prisma.sql`EXPLAIN (ANALYZE, BUFFERS) ${jobListSql(filter, 50, cursor)}`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    };
    const plans = {
      search_common_word: await explain({ q: COMMON_WORD }),
      search_rare_word: await explain({ q: RARE_WORD }),
      search_two_words: await explain({ q: 'red fox' }),
      deep_page: await explain({}, deepCursor),
    };

    const results = {
      at: new Date().toISOString(),
      cpus: cpus().length,
      loadavg_at_end: loadavg(),
      jobs: jobCount,
      seeded_now: seed,
      requests_per_route: REQUESTS,
      warmups: WARMUPS,
      target_p95_ms: TARGET_P95_MS,
      timings_ms: timings,
      over_target: timings.filter((t) => t.p95 >= TARGET_P95_MS).map((t) => t.name),
      explain: plans,
      bench_seconds: (Date.now() - benchStarted) / 1000,
    };

    console.log(`\ndashboard benchmark: ${jobCount} jobs, ${REQUESTS} requests per route after ${WARMUPS} warm-ups, ${results.cpus} CPUs`);
    const width = Math.max(...timings.map((t) => t.name.length));
    console.log(`  ${'route'.padEnd(width)}  ${'p50'.padStart(9)}  ${'p95'.padStart(9)}  ${'max'.padStart(9)}  answer`);
    for (const t of timings) {
      const flag = t.p95 >= TARGET_P95_MS ? `  over ${TARGET_P95_MS} ms` : '';
      console.log(`  ${t.name.padEnd(width)}  ${`${t.p50.toFixed(1)} ms`.padStart(9)}  ${`${t.p95.toFixed(1)} ms`.padStart(9)}  ${`${t.max.toFixed(1)} ms`.padStart(9)}  ${t.answer}${flag}`);
    }
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of q=${RARE_WORD}:\n${plans.search_rare_word}`);
    const dir = path.resolve(__dirname, '..', 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `dashboard-${results.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } finally {
    await api.stop();
    await prisma.$disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
