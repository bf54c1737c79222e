/**
 * Fills one database with a job history (see JobHistoryGenerator) in batches: each batch is one
 * transaction of one `INSERT … SELECT FROM unnest(…)` per table. The next batch is generated while
 * the database writes the last one. Tops up: a database that already holds some seeded jobs gets
 * only the missing ones.
 */
import { randomBytes } from 'node:crypto';
import { ulid } from '@genqueue/core';
import { migrateDatabase } from '@genqueue/db';
import { Pool, type PoolClient } from 'pg';
import { deferIndexes, restoreIndexes } from './deferred-indexes';
import { JobHistoryGenerator, type SeedProject } from './jobs';
import { Random } from './random';
import { SeedBatch } from './tables';
import { Timeline } from './timeline';

export const DEFAULT_HISTORY_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/genqueue_history';
const PROJECT_NAME = /^history-\d+$/;
const DAY_MS = 86_400_000;
/** An empty database getting at least this many jobs gets its secondary indexes built at the end. */
const DEFER_INDEXES_FROM_JOBS = 50_000;
/** Two batches in the database at once keep both cores busy while this process generates the next. */
const BATCHES_IN_FLIGHT = 2;

export type SeedOptions = {
  databaseUrl: string;
  /** how many jobs the database should hold when done */
  jobs: number;
  projects: number;
  batchSize?: number;
  days?: number;
  seed?: number;
  log?: (line: string) => void;
};

export type SeedResult = { existing: number; added: number; rows: number; seconds: number };

async function inTransaction(client: PoolClient, batch: SeedBatch): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const table of batch.tables) if (table.length > 0) await client.query(table.insertStatement());
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Refuses a database whose jobs the seed did not make: it is somebody's real history. */
async function assertSeedOnly(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT DISTINCT p.name FROM projects p
       JOIN (SELECT project_id FROM job_counts WHERE count <> 0 UNION SELECT project_id FROM job_count_deltas) c ON c.project_id = p.id`,
  );
  const foreign = rows.map((r) => r.name).filter((name) => !PROJECT_NAME.test(name));
  if (foreign.length > 0) throw new Error(`this database holds jobs of projects the seed did not make (${foreign.slice(0, 3).join(', ')}); seed a database of its own`);
}

/** The seed's projects history-1..N (made when missing); the first ones get most of the jobs. */
async function ensureProjects(pool: Pool, count: number, fromMs: number): Promise<SeedProject[]> {
  const projects: SeedProject[] = [];
  for (let n = 1; n <= count; n++) {
    const name = `history-${n}`;
    await pool.query('INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [`prj_${ulid(fromMs)}`, name, new Date(fromMs)]);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM projects WHERE name = $1', [name]);
    const id = rows[0]!.id;
    let endpoint: SeedProject['endpoint'] = null;
    // the second project has a registered endpoint for final events, as an integration would
    if (n === 2) {
      const url = 'https://integrations.example.com/genqueue/events';
      const existing = await pool.query<{ id: string }>('SELECT id FROM webhook_endpoints WHERE project_id = $1 AND url = $2', [id, url]);
      const endpointId = existing.rows[0]?.id ?? `wep_${ulid(fromMs)}`;
      const eventTypes = ['job.succeeded', 'job.failed'];
      if (!existing.rows[0]) {
        await pool.query('INSERT INTO webhook_endpoints (id, project_id, url, event_types, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
          endpointId, id, url, eventTypes, `whsec_${randomBytes(32).toString('base64')}`, new Date(fromMs),
        ]);
      }
      endpoint = { id: endpointId, url, eventTypes };
    }
    projects.push({ id, weight: 1 / n, endpoint });
  }
  return projects;
}

/** Jobs in the database (the trigger-kept counts: no scan of a million rows). */
export async function countJobs(databaseUrl: string): Promise<number> {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows } = await pool.query<{ n: string }>(
      'SELECT (SELECT coalesce(sum(count), 0) FROM job_counts) + (SELECT coalesce(sum(delta), 0) FROM job_count_deltas) AS n',
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await pool.end();
  }
}

type Progress = { added: number; rows: number };

/**
 * Generates `missing` jobs in batches and writes them, BATCHES_IN_FLIGHT transactions at a time
 * while the next batch is generated. Logs progress every few seconds.
 */
async function writeHistory(pool: Pool, generator: JobHistoryGenerator, timeline: Timeline, random: Random, missing: number, batchSize: number, log: (line: string) => void): Promise<Progress> {
  const progress: Progress = { added: 0, rows: 0 };
  const started = Date.now();
  let lastLog = started;
  const inFlight = new Set<Promise<void>>();
  try {
    for (let offset = 0; offset < missing; offset += batchSize) {
      const batch = new SeedBatch();
      generator.nextBatch(BATCHES_IN_FLIGHT);
      const end = Math.min(missing, offset + batchSize);
      for (let i = offset; i < end; i++) generator.add(batch, timeline.timeOf(i, missing, random));
      if (inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(inFlight);
      const write = pool.connect().then(async (client) => {
        try {
          await inTransaction(client, batch);
        } finally {
          client.release();
        }
        progress.added += batch.jobs.length;
        progress.rows += batch.rowCount;
      });
      const tracked = write.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        const seconds = (Date.now() - started) / 1000;
        log(`seed: ${progress.added}/${missing} jobs, ${progress.rows} rows, ${Math.round(progress.rows / seconds)} rows/s, ${Math.round(progress.added / seconds)} jobs/s`);
      }
    }
    await Promise.all(inFlight);
  } finally {
    // a failed batch must not leave the others writing while the caller rebuilds indexes
    await Promise.allSettled(inFlight);
  }
  return progress;
}

export async function seedHistory(options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  await migrateDatabase(options.databaseUrl);
  // a seed that is cut short loses its last batches, not the database: no need to wait for fsync
  const pool = new Pool({ connectionString: options.databaseUrl, max: BATCHES_IN_FLIGHT + 1, options: '-c synchronous_commit=off' });
  try {
    await assertSeedOnly(pool);
    // a run cut short while its indexes were dropped: build them before anything else
    await restoreIndexes(pool, log);
    const existing = await countJobs(options.databaseUrl);
    const missing = Math.max(0, options.jobs - existing);
    if (missing === 0) {
      log(`seed: ${existing} jobs already, nothing to add`);
      return { existing, added: 0, rows: 0, seconds: 0 };
    }
    const nowMs = Date.now();
    const fromMs = nowMs - (options.days ?? 30) * DAY_MS;
    const projects = await ensureProjects(pool, options.projects, fromMs);
    const random = new Random((options.seed ?? 1) + existing);
    const generator = new JobHistoryGenerator(random, projects, nowMs);
    log(`seed: ${existing} jobs there, adding ${missing} over ${options.days ?? 30} days in ${projects.length} projects`);
    if (existing === 0 && missing >= DEFER_INDEXES_FROM_JOBS) log(`seed: dropped ${await deferIndexes(pool)} secondary indexes, built again at the end`);

    let progress: Progress;
    try {
      progress = await writeHistory(pool, generator, new Timeline(fromMs, nowMs), random, missing, options.batchSize ?? 5_000, log);
    } finally {
      await restoreIndexes(pool, log);
    }
    log('seed: folding job counts, then VACUUM ANALYZE (index-only scans and planner statistics)');
    await pool.query('SELECT genqueue_compact_job_counts()');
    for (const table of ['jobs', 'job_events', 'artifacts', 'job_attempts', 'webhook_deliveries', 'webhook_attempts', 'job_counts', 'job_count_deltas']) {
      await pool.query(`VACUUM (ANALYZE) ${table}`);
    }
    const seconds = (Date.now() - started) / 1000;
    log(`seed: added ${progress.added} jobs (${progress.rows} rows) in ${seconds.toFixed(1)} s: ${Math.round(progress.rows / seconds)} rows/s, ${Math.round(progress.added / seconds)} jobs/s`);
    return { existing, added: progress.added, rows: progress.rows, seconds };
  } finally {
    await pool.end();
  }
}
