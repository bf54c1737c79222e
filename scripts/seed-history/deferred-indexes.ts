/**
 * Filling an empty history is several times faster when the secondary indexes are built once at
 * the end instead of updated row by row (the trigram GIN indexes most of all). Their definitions
 * are kept in a table in the same transaction that drops them, so a seed that is cut short leaves
 * what the next run needs to rebuild them: every run restores first.
 */
import type { Pool } from 'pg';

const TABLES = ['jobs', 'job_events', 'artifacts', 'job_attempts', 'webhook_deliveries', 'webhook_attempts'];
const LEDGER = 'seed_deferred_indexes';

/** Drops the non-unique indexes of the seeded tables, remembering how to build them again. */
export async function deferIndexes(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TABLE ${LEDGER} (name text PRIMARY KEY, definition text NOT NULL)`);
    const { rows } = await client.query<{ name: string; definition: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary`,
      [TABLES],
    );
    for (const row of rows) {
      await client.query(`INSERT INTO ${LEDGER} (name, definition) VALUES ($1, $2)`, [row.name, row.definition]);
      await client.query(`DROP INDEX "${row.name.replace(/"/g, '""')}"`);
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Builds every index a seed deferred (two at a time: one per core), then forgets the ledger. */
export async function restoreIndexes(pool: Pool, log: (line: string) => void): Promise<void> {
  const { rows: ledger } = await pool.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [LEDGER]);
  if (!ledger[0]?.exists) return;
  const { rows } = await pool.query<{ name: string; definition: string }>(`SELECT name, definition FROM ${LEDGER} ORDER BY name`);
  log(`seed: building ${rows.length} indexes`);
  const queue = [...rows];
  const builder = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query("SET maintenance_work_mem = '256MB'");
      for (let row = queue.shift(); row; row = queue.shift()) {
        const started = Date.now();
        await client.query(row.definition.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS '));
        await client.query(`DELETE FROM ${LEDGER} WHERE name = $1`, [row.name]);
        log(`seed:   ${row.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all([builder(), builder()]);
  await pool.query(`DROP TABLE ${LEDGER}`);
}
