import pg from 'pg';
import { PreparingClient, statementName } from '../src/prepared-statements';
import { databaseUrl, dropDatabase, randomDatabaseName, withPg } from './test-databases';

/** Named prepared statements on a real Postgres: what gets prepared, and a migration mid-run. */
describe('PreparingClient', () => {
  const table = 'prep_rows';
  const database = randomDatabaseName('genqueue_test_prepared');
  // one connection, so pg_prepared_statements shows what this pool's client prepared
  const pool = new pg.Pool({ Client: PreparingClient, connectionString: databaseUrl(database), max: 1 });
  const prepared = async () =>
    (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);

  beforeAll(async () => {
    await withPg(databaseUrl('postgres'), (client) => client.query(`CREATE DATABASE "${database}"`));
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
    await pool.query(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
  });

  afterAll(async () => {
    await pool.end();
    await dropDatabase(database);
  });

  it('prepares a parameterised text statement once and reuses it', async () => {
    const text = `SELECT label FROM ${table} WHERE id = $1`;
    expect((await pool.query(text, [1])).rows).toEqual([{ label: 'one' }]);
    expect((await pool.query(text, [2])).rows).toEqual([{ label: 'two' }]);
    expect(await prepared()).toEqual([statementName(text)]);
  });

  it('leaves statements without parameters and object configs unnamed', async () => {
    const before = await prepared();
    await pool.query(`SELECT count(*) FROM ${table}`);
    await pool.query({ text: `SELECT id FROM ${table} WHERE id = $1`, values: [1] });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT id FROM ${table} WHERE label = $1`, ['two']);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // only the transaction's parameterised text statement was added
    expect(await prepared()).toEqual([...before, statementName(`SELECT id FROM ${table} WHERE label = $1`)].sort());
  });

  it('after a migration changes a statement\'s columns, fails that call once and prepares it afresh', async () => {
    const text = `SELECT * FROM ${table} WHERE id = $1`;
    expect((await pool.query(text, [1])).rows).toEqual([{ id: 1, label: 'one' }]);
    const staleName = statementName(text);
    await pool.query(`ALTER TABLE ${table} ADD COLUMN extra int DEFAULT 7`);
    await expect(pool.query(text, [1])).rejects.toThrow('cached plan must not change result type');
    expect(statementName(text)).not.toBe(staleName);
    expect((await pool.query(text, [1])).rows).toEqual([{ id: 1, label: 'one', extra: 7 }]);
  });
});
