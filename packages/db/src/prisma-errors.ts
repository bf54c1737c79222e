// Classifies errors from Prisma 7 over the pg driver adapter. Such errors carry no `meta.target`:
// a unique violation is P2002 (P2010 from raw queries) with
//   meta.driverAdapterError.cause = { kind: 'UniqueConstraintViolation', constraint: { index }, table }
// where `index` is the constraint name. Duck typing instead of `instanceof`: the error classes live
// in @prisma/client-runtime-utils and may exist twice in a tree.

type UniqueViolation = { table?: string; constraint?: string; columns?: string[] };

type AdapterCause = { kind?: unknown; originalCode?: unknown; constraint?: { index?: unknown; fields?: unknown }; table?: unknown };

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;

const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const asStrings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;

/** The driver adapter's error cause, on a Prisma error's meta or on a bare DriverAdapterError. */
function adapterCause(err: Record<string, unknown>): AdapterCause | undefined {
  const fromMeta = asRecord(asRecord(asRecord(err.meta)?.driverAdapterError)?.cause);
  if (fromMeta) return fromMeta as AdapterCause;
  if (err.name === 'DriverAdapterError') return asRecord(err.cause) as AdapterCause | undefined;
  return undefined;
}

function uniqueViolationOf(err: unknown): UniqueViolation | null {
  const e = asRecord(err);
  if (!e) return null;
  const cause = adapterCause(e);
  if (cause?.kind === 'UniqueConstraintViolation' || e.code === 'P2002') {
    const meta = asRecord(e.meta);
    return {
      table: asString(cause?.table) ?? asString(meta?.table),
      constraint: asString(cause?.constraint?.index),
      columns: asStrings(cause?.constraint?.fields) ?? asStrings(meta?.target),
    };
  }
  // A bare pg error (code 23505 unique_violation), e.g. from a pg pool used directly.
  if (e.code === '23505' && typeof e.severity === 'string') {
    return { table: asString(e.table), constraint: asString(e.constraint) };
  }
  return null;
}

/** Prisma field name → column name; this schema maps every camelCase field to its snake_case column. */
const toColumn = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Primary keys other than `id`, which every other model uses. */
const PRIMARY_KEY_COLUMNS: Record<string, readonly string[]> = { system_settings: ['key'] };

const POSTGRES_MAX_IDENTIFIER = 63;

function matchesColumns(violation: UniqueViolation, columns: string[]): boolean {
  const wanted = [...columns].sort().join(',');
  if (violation.columns) return [...violation.columns].map(toColumn).sort().join(',') === wanted;
  const { constraint, table } = violation;
  if (!constraint) return false;
  if (!table) return constraint.endsWith(`_${columns.join('_')}_key`);
  // Prisma's default names: <table>_<columns>_key for @unique / @@unique, <table>_pkey for @id.
  if (constraint === `${table}_${columns.join('_')}_key`.slice(0, POSTGRES_MAX_IDENTIFIER)) return true;
  const primaryKey = PRIMARY_KEY_COLUMNS[table] ?? ['id'];
  return constraint === `${table}_pkey` && [...primaryKey].sort().join(',') === wanted;
}

/**
 * True when `err` is a unique-constraint violation (P2002, or P2010 from a raw query, or a bare pg
 * 23505). With `fields` (Prisma field names or column names, in @@unique order), only when the
 * violated constraint covers exactly those fields.
 */
export function isUniqueViolation(err: unknown, fields?: readonly string[]): boolean {
  const violation = uniqueViolationOf(err);
  if (!violation) return false;
  if (!fields || fields.length === 0) return true;
  return matchesColumns(violation, fields.map(toColumn));
}

/** The violated constraint's name (e.g. `jobs_project_id_idempotency_key_key`), when known. */
export function uniqueViolationConstraint(err: unknown): string | null {
  return uniqueViolationOf(err)?.constraint ?? null;
}

// P2024: no pool connection within the timeout; P2028: a transaction could not start or ran out of
// its time (an overloaded database): the caller should try again shortly, not see a 500.
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// pg's own errors carry no code: a dropped socket or pg's connectionTimeoutMillis firing.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

const isUnavailableSqlState = (code: unknown): boolean =>
  typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code));

/**
 * True when `err` means Postgres cannot be reached or dropped the connection (the request may
 * succeed later), as opposed to a query the database refused.
 */
export function isPostgresUnavailable(err: unknown): boolean {
  return isUnavailable(err, 0);
}

function isUnavailable(err: unknown, depth: number): boolean {
  const e = asRecord(err);
  if (!e || depth > 4) return false;
  if (typeof e.code === 'string' && UNAVAILABLE_PRISMA_CODES.has(e.code)) return true;
  if (typeof e.errorCode === 'string' && UNAVAILABLE_PRISMA_CODES.has(e.errorCode)) return true; // init errors
  const cause = adapterCause(e);
  if (cause) {
    if (typeof cause.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(cause.kind)) return true;
    if (isUnavailableSqlState(cause.originalCode) || isUnavailableSqlState(asRecord(cause)?.code)) return true;
  }
  if (typeof e.code === 'string' && (UNAVAILABLE_NODE_CODES.has(e.code) || isUnavailableSqlState(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnavailable(inner, depth + 1))) return true; // AggregateError
  return e.cause !== undefined && e.cause !== err && isUnavailable(e.cause, depth + 1);
}
