import { TEST_ENV } from './test-env';

/**
 * The unit tier runs without Postgres and Redis: every URL a test could take points at a closed
 * port, so a unit test that reaches for a service fails at once instead of passing by luck.
 */
const CLOSED = '127.0.0.1:9';
process.env['DATABASE_URL'] = `postgresql://postgres@${CLOSED}/unit_tests_have_no_database`;
process.env['REDIS_URL'] = `redis://${CLOSED}`;
delete process.env[TEST_ENV.databaseUrl];
process.env[TEST_ENV.redisUrl] = `redis://${CLOSED}`;
