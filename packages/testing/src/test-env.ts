/** Values the Jest global setup hands to every test file (through the environment). */
export const TEST_ENV = {
  databaseUrl: 'GENQUEUE_TEST_DATABASE_URL',
  redisUrl: 'GENQUEUE_TEST_REDIS_URL',
} as const;

export function testDatabaseUrl(): string {
  const url = process.env[TEST_ENV.databaseUrl];
  if (!url) throw new Error('the Jest global setup did not run: no test database');
  return url;
}

export function testRedisUrl(): string {
  return process.env[TEST_ENV.redisUrl] ?? 'redis://127.0.0.1:6379';
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
