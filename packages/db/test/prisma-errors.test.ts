import { isPostgresUnavailable, isUniqueViolation } from '../src/prisma-errors';

/** The shape Prisma 7 gives a failed query over @prisma/adapter-pg. */
const prismaError = (code: string, cause: Record<string, unknown>) =>
  Object.assign(new Error('Invalid invocation'), {
    name: 'PrismaClientKnownRequestError',
    code,
    meta: { modelName: 'Job', driverAdapterError: { name: 'DriverAdapterError', cause } },
  });

const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('pg error'), { code, severity: 'ERROR', ...extra });

describe('isUniqueViolation', () => {
  const idempotency = prismaError('P2002', {
    kind: 'UniqueConstraintViolation',
    originalCode: '23505',
    constraint: { index: 'jobs_project_id_idempotency_key_key' },
    table: 'jobs',
  });

  it('matches on fields through the constraint name', () => {
    expect(isUniqueViolation(idempotency)).toBe(true);
    expect(isUniqueViolation(idempotency, ['projectId', 'idempotencyKey'])).toBe(true);
    expect(isUniqueViolation(idempotency, ['project_id', 'idempotency_key'])).toBe(true);
    expect(isUniqueViolation(idempotency, ['idempotencyKey'])).toBe(false);
  });

  it('matches primary keys', () => {
    const pkey = prismaError('P2002', { kind: 'UniqueConstraintViolation', constraint: { index: 'system_settings_pkey' }, table: 'system_settings' });
    expect(isUniqueViolation(pkey, ['key'])).toBe(true);
    expect(isUniqueViolation(pkey, ['id'])).toBe(false);
  });

  it('uses constraint fields when the adapter reports them instead of a name', () => {
    const byFields = prismaError('P2002', { kind: 'UniqueConstraintViolation', constraint: { fields: ['key_hash'] } });
    expect(isUniqueViolation(byFields, ['keyHash'])).toBe(true);
    expect(isUniqueViolation(byFields, ['name'])).toBe(false);
  });

  it('understands bare pg errors and ignores everything else', () => {
    expect(isUniqueViolation(pgError('23505', { table: 'projects', constraint: 'projects_name_key' }), ['name'])).toBe(true);
    expect(isUniqueViolation(pgError('23503'))).toBe(false);
    expect(isUniqueViolation(prismaError('P2003', { kind: 'ForeignKeyConstraintViolation' }))).toBe(false);
    expect(isUniqueViolation(new Error('duplicate key'))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
    expect(isUniqueViolation('P2002')).toBe(false);
  });
});

describe('isPostgresUnavailable', () => {
  it('recognises unreachable servers, dropped connections and shutdowns', () => {
    expect(isPostgresUnavailable(prismaError('P1001', { kind: 'DatabaseNotReachable', host: 'db', port: 5432 }))).toBe(true);
    expect(isPostgresUnavailable(prismaError('P1017', { kind: 'ConnectionClosed' }))).toBe(true);
    expect(isPostgresUnavailable(prismaError('P2010', { kind: 'postgres', code: '57P01', originalCode: '57P01' }))).toBe(true);
    expect(isPostgresUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isPostgresUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isPostgresUnavailable(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'all failed'))).toBe(true);
    expect(isPostgresUnavailable(new Error('wrapped', { cause: pgError('57P03') }))).toBe(true);
  });

  it('leaves query errors alone', () => {
    expect(isPostgresUnavailable(prismaError('P2002', { kind: 'UniqueConstraintViolation' }))).toBe(false);
    expect(isPostgresUnavailable(prismaError('P1003', { kind: 'DatabaseDoesNotExist' }))).toBe(false);
    expect(isPostgresUnavailable(pgError('42P01'))).toBe(false);
    expect(isPostgresUnavailable(new Error('boom'))).toBe(false);
    expect(isPostgresUnavailable(null)).toBe(false);
  });
});
