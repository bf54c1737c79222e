/* eslint-disable no-console -- a command-line entry point: the printed lines are its output */
/**
 * `npm run bench:recovery`: recovery after Redis comes back empty with 1,000 jobs in flight (issue 10).
 * Its own Postgres cluster and redis-server on free ports, the simulator (fast time), genqueue's API
 * and worker as separate processes. Jobs of every family are put in flight (video and MJ tasks
 * submitted and parked, synchronous calls slowed by a simulator fault so they are still running or
 * queued), Redis is SIGKILLed and started again empty, the fault is lifted, and the bench reports:
 * - how long until every job unfinished at the kill is back in its BullMQ queue (or final),
 * - how long until every job is final,
 * - final events per job (must be 1) and accepted submissions per video/MJ task (must be 1).
 * Knobs: BENCH_RECOVERY_JOBS (1000), BENCH_RECOVERY_SWEEP_MS (2000, the sweep interval).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { queuePrefix } from '@genqueue/queue';
import { PrivatePostgres, PrivateRedis, REPO_ROOT, TestStack } from '@genqueue/testing';

const TOTAL = Number(process.env['BENCH_RECOVERY_JOBS'] ?? 1000);
const SWEEP_MS = Number(process.env['BENCH_RECOVERY_SWEEP_MS'] ?? 2000);
const FINAL = ['succeeded', 'failed', 'canceled', 'expired'];
const FINAL_EVENTS = FINAL.map((s) => `job.${s}`);

type Family = 'image' | 'audio' | 'video' | 'mj' | 'embedding';
/** Shares of the mix; tasks are the ones that stay in flight longest. */
const MIX: Array<[Family, number]> = [
  ['image', 0.3],
  ['audio', 0.2],
  ['video', 0.2],
  ['mj', 0.2],
  ['embedding', 0.1],
];
const QUEUE: Record<Family, string> = { image: 'job-image', audio: 'job-audio', video: 'job-video', mj: 'job-mj', embedding: 'job-embedding' };

function body(family: Family, prompt: string): Record<string, unknown> {
  switch (family) {
    case 'image':
      return { type: 'image.generate', input: { prompt } };
    case 'audio':
      return { type: 'audio.speech', input: { input: prompt, voice: 'alloy', response_format: 'wav' } };
    case 'video':
      return { type: 'video.generate', input: { prompt } };
    case 'mj':
      return { type: 'mj.imagine', input: { prompt } };
    case 'embedding':
      return { type: 'embedding.batch', input: { inputs: Array.from({ length: 20 }, (_, i) => `${prompt} #${i}`), dimensions: 8, chunk_size: 10 } };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it is true; the time it took. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function main(): Promise<void> {
  const [pg, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
  let stack: TestStack | undefined;
  let sql: Client | undefined;
  try {
    stack = await TestStack.start({
      postgresUrl: pg.url(),
      env: {
        REDIS_URL: redis.url,
        SWEEP_INTERVAL_MS: String(SWEEP_MS),
        LOG_LEVEL: 'info',
        TASK_POLL_MIN_MS: '200',
        TASK_POLL_MAX_MS: '1000',
        MJ_POLL_WINDOW_MS: '10',
        LANE_EMBEDDING_RPM: '100000',
        LANE_VIDEO_RPM: '100000',
        LANE_MJ_RPM: '100000',
        DATABASE_POOL_MAX: '16',
      },
    });
    const db = new Client({ connectionString: stack.databaseUrl });
    sql = db;
    db.on('error', () => undefined);
    await db.connect();
    const project = await stack.createProject({ requests_per_minute: 1_000_000, jobs_per_minute: 1_000_000, max_running_jobs: 100_000 });
    // tasks last ≈ 40 s (video) and ≈ 30 s (MJ) of real time (fast time: a minute a second); synchronous
    // calls take 2 s each until the kill, so most of them are still queued then
    // 1,000 jobs cost more than the simulator's default grant: a spent quota would hold every lane
    await stack.sim.post('/_sim/config', { body: { quota_granted: 1e15 } });
    await stack.sim.post('/_sim/tasks/config', { body: { video_duration_ms: 2_400_000, mj_duration_ms: 1_800_000 } });
    for (const route of ['images.generations', 'audio.speech', 'embeddings']) {
      const res = await stack.sim.post('/_sim/faults', { body: { route, kind: 'slow', times: -1, delay_ms: 120_000 } });
      if (res.status >= 300) throw new Error(`fault ${route}: ${res.status} ${res.text}`);
    }

    const jobs: Array<{ id: string; family: Family; prompt: string }> = [];
    const submitStart = Date.now();
    for (const [family, share] of MIX) {
      const count = Math.round(TOTAL * share);
      const prompts = Array.from({ length: count }, (_, i) => `recovery ${family} ${i} ${submitStart}`);
      for (let done = 0; done < count; done += 500) {
        const batch = prompts.slice(done, done + 500);
        const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: batch.map((p) => body(family, p)) } });
        if (res.status !== 202) throw new Error(`bulk ${family}: ${res.status} ${res.text}`);
        const created = (res.body.data ?? res.body.jobs) as Array<{ id: string }>;
        created.forEach((job, i) => jobs.push({ id: job.id, family, prompt: batch[i]! }));
      }
    }
    const ids = jobs.map((j) => j.id);
    console.log(`submitted ${jobs.length} jobs in ${((Date.now() - submitStart) / 1000).toFixed(1)} s`);

    const tasks = jobs.filter((j) => j.family === 'video' || j.family === 'mj');
    // half the tasks submitted and parked is enough: the rest are still queued, in flight too
    await waitFor(
      'half the video/MJ tasks submitted (parked, polling)',
      async () => {
        const r = await db.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND (upstream_task_id IS NOT NULL OR status = ANY($2))', [
          tasks.map((t) => t.id),
          FINAL,
        ]);
        return r.rows[0].n * 2 >= tasks.length;
      },
      300_000,
      250,
    );
    const before = await db.query('SELECT status, count(*)::int AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [ids]);
    const unfinishedRows = await db.query('SELECT id, type FROM jobs WHERE id = ANY($1) AND status IN ($2, $3)', [ids, 'queued', 'running']);
    const unfinished = unfinishedRows.rows.map((r) => r.id as string);
    const familyOf = new Map(jobs.map((j) => [j.id, j.family]));
    console.log(`at the kill: ${before.rows.map((r) => `${r.status} ${r.n}`).join(', ')} (${unfinished.length} unfinished)`);

    await redis.restartEmpty();
    const emptyAt = Date.now();
    await stack.sim.delete('/_sim/faults');
    console.log('Redis SIGKILLed and started again empty; the slow fault is lifted');

    const prefix = String(stack.env['QUEUE_PREFIX']);
    const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    let backMs = 0;
    try {
      await waitFor(
        'every unfinished job back in its queue (or final)',
        async () => {
          const pipeline = probe.pipeline();
          for (const id of unfinished) {
            const queue = QUEUE[familyOf.get(id)!];
            pipeline.exists(`${queuePrefix(prefix, queue)}:${queue}:${id}`);
          }
          const results = (await pipeline.exec()) ?? [];
          const missing = unfinished.filter((_, i) => results[i]?.[1] !== 1);
          if (missing.length === 0) return true;
          const final = await db.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = ANY($2)', [missing, FINAL]);
          return final.rows[0].n === missing.length;
        },
        300_000,
      );
      backMs = Date.now() - emptyAt;
    } finally {
      probe.disconnect();
    }
    console.log(`every unfinished job back in its queue ${(backMs / 1000).toFixed(1)} s after Redis came back empty`);

    await waitFor(
      'every job final',
      async () => {
        const r = await db.query('SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = ANY($2)', [ids, FINAL]);
        return r.rows[0].n === ids.length;
      },
      900_000,
      250,
    );
    const finalMs = Date.now() - emptyAt;
    console.log(`every job final ${(finalMs / 1000).toFixed(1)} s after Redis came back empty`);

    const statuses = await db.query('SELECT status, count(*)::int AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [ids]);
    const finalEvents = await db.query(
      `SELECT n, count(*)::int AS jobs FROM (
         SELECT j.id, count(e.id)::int AS n FROM jobs j LEFT JOIN job_events e ON e.job_id = j.id AND e.type = ANY($2)
         WHERE j.id = ANY($1) GROUP BY j.id) per_job GROUP BY n ORDER BY n`,
      [ids, FINAL_EVENTS],
    );
    const summary = (await stack.sim.get('/_sim/tasks?summary=1')).body as {
      by_key: Record<string, { accepted: number }>;
      by_state: Record<string, { accepted: number }>;
    };
    const submissions = new Map<number, number>();
    for (const t of tasks) {
      const accepted = (t.family === 'video' ? summary.by_key[t.prompt] : summary.by_state[t.id])?.accepted ?? 0;
      submissions.set(accepted, (submissions.get(accepted) ?? 0) + 1);
    }
    const result = {
      jobs: jobs.length,
      mix: Object.fromEntries(MIX.map(([f, s]) => [f, Math.round(TOTAL * s)])),
      sweep_interval_ms: SWEEP_MS,
      unfinished_at_kill: unfinished.length,
      back_in_queue_s: Number((backMs / 1000).toFixed(1)),
      all_final_s: Number((finalMs / 1000).toFixed(1)),
      statuses: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
      final_events_per_job: Object.fromEntries(finalEvents.rows.map((r) => [r.n, r.jobs])),
      submissions_per_task: Object.fromEntries([...submissions].sort((a, b) => a[0] - b[0])),
    };
    console.log(JSON.stringify(result, null, 2));
    const ok =
      result.final_events_per_job[1] === jobs.length &&
      Object.keys(result.submissions_per_task).join() === '1' &&
      (result.statuses['succeeded'] ?? 0) === jobs.length;
    console.log(ok ? 'OK: one final event per job, one submission per task, every job succeeded' : 'NOT OK: see above');
    const dir = path.join(REPO_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `recovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await sql?.end().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    await Promise.all([redis.stop(), pg.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
