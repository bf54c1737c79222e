import { poolOf } from '../src/client';
import { receivedOutputKeeps } from '../src/repositories/grouped-job-statements';
import { OneStatementTransitions } from '../src/repositories/one-statement-transitions';
import { useMigratedDatabase } from './repository-fixtures';

/**
 * The grouped statements take their jobs from a JSON record set, which Postgres guesses at 100 rows.
 * Once a prepared statement settles on its generic plan, that guess made it hash-join a scan of the
 * whole jobs table on every call while the table was small (under some 20,000 rows, and for good
 * where statistics are not refreshed): ten times the Postgres time of the statement. Each statement
 * also names its jobs as an id array, which keeps the lookup on the primary key.
 */
describe('grouped job statements find their jobs by primary key', () => {
  // one connection: the statistics read below are that backend's own
  const prisma = useMigratedDatabase('genqueue_test_grouped_plans', 1);
  const JOBS = 3_000;
  const ids = Array.from({ length: JOBS }, (_, n) => `job_plan_${String(n).padStart(5, '0')}`);

  beforeAll(async () => {
    const pool = poolOf(prisma)!;
    await pool.query(`INSERT INTO projects (id, name) VALUES ('prj_plans', 'plans')`);
    await pool.query(
      `INSERT INTO jobs (id, project_id, type, status, input, queue_expires_at, inactivity_timeout_sec, deadline_sec, event_seq, updated_at)
       SELECT id, 'prj_plans', 'image.generate', 'queued', jsonb_build_object('prompt', id), now() + interval '1 day', 600, 3600, 1, now()
         FROM unnest($1::text[]) AS id`,
      [ids],
    );
    await pool.query(
      `INSERT INTO job_events (id, job_id, project_id, seq, type, data, created_at)
       SELECT 'evt_' || id, id, project_id, 1, 'job.created', jsonb_build_object('id', id, 'input', input), now() FROM jobs`,
    );
  });

  /** Sequential scans of `jobs` so far, as the statistics see them once this backend has reported. */
  async function jobsSeqScans(): Promise<number> {
    const pool = poolOf(prisma)!;
    await pool.query('SELECT pg_stat_force_next_flush()');
    await pool.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await pool.query<{ seq_scan: string }>(`SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'jobs'`);
    return Number(rows[0]!.seq_scan);
  }

  it('starts, keeps and ends jobs in batches without scanning the table, past the switch to generic plans', async () => {
    const pool = poolOf(prisma)!;
    const transitions = new OneStatementTransitions(pool);
    const keeps = receivedOutputKeeps(pool);
    const before = await jobsSeqScans();
    // ten batches of each statement: Postgres settles on a generic plan after five executions
    const batches = Array.from({ length: 10 }, (_, b) => ids.slice(b * 5, b * 5 + 5));
    for (const batch of batches) {
      const started = await Promise.all(batch.map((jobId) => transitions.run({ jobId, to: 'running', patch: {}, allowed: ['queued'] })));
      expect(started.every((change) => typeof change === 'object' && change?.job.status === 'running')).toBe(true);
      const kept = await Promise.all(batch.map((jobId) => keeps.run({ jobId, output: { images: [{ n: 1 }] } })));
      expect(kept).toEqual(batch.map(() => true));
      const ended = await Promise.all(
        batch.map((jobId) => transitions.run({ jobId, to: 'succeeded', patch: { output: { images: [] }, error: null }, allowed: ['running'] })),
      );
      expect(ended.every((change) => typeof change === 'object' && change?.job.status === 'succeeded')).toBe(true);
    }
    expect((await jobsSeqScans()) - before).toBe(0);
  });
});
