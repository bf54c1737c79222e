import { Client } from 'pg';
import { refuseTaskIdWritesSql } from '../tasks-helpers';
import { FaultBed, report, secondsSince } from './fault-kit';

/** Writes of an accepted task id that Postgres refuses before one goes through (scenario 8). */
const REFUSED_ID_WRITES = 4;
/** The outage itself: the scenario's input, not a wait for some state. */
const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Postgres fails (issue 10, item 7, scenarios 3 and 8): stopped for 20 s under load, and a write
 * refused right after the gateway accepted a task. Every job ends once; no task is submitted twice.
 */
describe('fault suite: Postgres', () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await FaultBed.start();
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
  });

  it('Postgres stopped for 20 s (pg_ctl stop -m fast, then start)', async () => {
    const jobs = await bed.submitMix('pg-stopped', 3);
    await bed.waitTasksParked(jobs);
    const inFlight = await bed.unfinished(jobs);
    bed.pg.stopServer();
    const stoppedAt = Date.now();
    await outage(20_000);
    bed.pg.startServer();
    const startedAt = Date.now();
    // neither genqueue process died of it
    expect(bed.stack.worker?.child.exitCode).toBeNull();
    expect(bed.stack.apiProcess.child.exitCode).toBeNull();
    await bed.waitAllFinal(jobs);
    report(`Postgres stopped ${((startedAt - stoppedAt) / 1000).toFixed(0)} s: ${jobs.length} jobs (${inFlight} unfinished at the stop) all final ${secondsSince(startedAt)} s after it was back`);
    await bed.expectExactlyOnce(jobs);
  }, 240_000);

  describe('a DB failure right after a task submit was accepted', () => {
    let sql: Client;

    beforeAll(async () => {
      sql = new Client({ connectionString: bed.stack.databaseUrl });
      await sql.connect();
      for (const statement of refuseTaskIdWritesSql(REFUSED_ID_WRITES)) await sql.query(statement);
    });

    afterAll(async () => {
      await sql.query(`DROP TRIGGER IF EXISTS test_refuse_task_id_write ON jobs`);
      await sql.query(`DROP FUNCTION IF EXISTS test_refuse_task_id_write()`);
      await sql.query(`DROP SEQUENCE IF EXISTS test_refused_task_id_writes`);
      await sql.end();
    });

    it('keeps every accepted task: one submission each, every job final once', async () => {
      const jobs = await bed.submitMix('db-refused', 3);
      const startedAt = Date.now();
      await bed.waitAllFinal(jobs);
      const { rows } = await sql.query<{ writes: string }>(`SELECT last_value::text AS writes FROM test_refused_task_id_writes`);
      // the refusals happened, and the later writes went through
      expect(Number(rows[0]?.writes)).toBeGreaterThan(REFUSED_ID_WRITES);
      report(`DB failure after an accepted submit: ${REFUSED_ID_WRITES} task-id writes refused, ${jobs.length} jobs all final in ${secondsSince(startedAt)} s`);
      await bed.expectExactlyOnce(jobs);
    }, 120_000);
  });
});
