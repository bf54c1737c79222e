import { Client } from 'pg';
import { TEST_ENV, withDatabase } from './test-env';

/** Drops the run's database. */
export default async function globalTeardown(): Promise<void> {
  const url = process.env[TEST_ENV.databaseUrl];
  if (!url) return;
  const name = new URL(url).pathname.slice(1);
  const admin = new Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
