// Plain `pg` helpers for scripts/migrate.mjs: database URLs, CREATE/DROP DATABASE, advisory lock.
import pg from 'pg';

/** Sentence-sized failure that migrate.mjs prints as is (no stack). */
export class MigrateError extends Error {}

export function databaseName(url) {
  const name = decodeURIComponent(parseUrl(url).pathname.replace(/^\//, ''));
  if (!name) throw new MigrateError(`The database URL names no database: ${redact(url)}.`);
  return name;
}

export function withDatabase(url, name) {
  const parsed = parseUrl(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/** The URL without its password, for messages. */
export function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

function parseUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new MigrateError('The database URL is not a valid URL.');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new MigrateError(`The database URL must start with postgresql:// (got ${parsed.protocol}).`);
  }
  return parsed;
}

export const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

/** Runs fn with a connected client; connection errors become one readable sentence. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped idle connection surfaces through the pending query instead
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw connectError(url, err);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function connectError(url, err) {
  const where = redact(url);
  if (err?.code === '3D000') return Object.assign(new MigrateError(`Database does not exist: ${where}.`), { code: err.code });
  return new MigrateError(`Cannot connect to Postgres at ${where}: ${err?.message || err?.code || String(err)}.`);
}

/**
 * Creates the database of `url` unless it exists. Connects to the `postgres` database of the same
 * server only when the target is missing, and treats a concurrent creator's win as success.
 */
export async function ensureDatabase(url) {
  const name = databaseName(url);
  try {
    await withClient(url, async () => {});
    return false;
  } catch (err) {
    if (err.code !== '3D000') throw err;
  }
  return withClient(withDatabase(url, 'postgres'), async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (err) {
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
      if (err.code === '42P04' || err.code === '23505') return false;
      throw new MigrateError(`Cannot create database "${name}": ${err.message}.`);
    }
  });
}

export async function createDatabase(adminUrl, name) {
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
}

export async function dropDatabase(adminUrl, name) {
  // WITH (FORCE) (Postgres 13+) ends sessions a crashed engine may have left behind.
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

// WARNING: every genqueue process that migrates must use this key, or two applies may interleave.
// It differs from Prisma's own key (72707369), which the schema engine takes inside the apply.
const MIGRATE_LOCK_KEY = 7_141_975_001n;

/** Runs fn while holding a session advisory lock in the target database. */
export async function withMigrateLock(url, timeoutMs, fn) {
  return withClient(url, async (client) => {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY.toString()]);
    } catch (err) {
      if (err.code === '55P03') {
        throw new MigrateError(`Timed out after ${timeoutMs} ms waiting for another migration of this database to finish.`);
      }
      throw err;
    }
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY.toString()]).catch(() => {});
    }
  });
}
