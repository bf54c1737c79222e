import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { migrateDatabase } from '@genqueue/db';
import { TEST_ENV, withDatabase } from './test-env';

/** Once per `npm test`: services up, one fresh database for the run, migrated. */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const base = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/genqueue';
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  execFileSync('bash', [path.join(root, 'scripts/ensure-services.sh')], {
    env: { ...process.env, DATABASE_URL: base, REDIS_URL: redisUrl },
    stdio: 'inherit',
  });
  const url = withDatabase(base, `genqueue_test_${Date.now()}_${process.pid}`);
  await migrateDatabase(url);
  process.env[TEST_ENV.databaseUrl] = url;
  process.env[TEST_ENV.redisUrl] = redisUrl;
}
