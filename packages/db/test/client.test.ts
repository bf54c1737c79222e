import { createPrismaClient } from '../src/client';
import { isPostgresUnavailable, isUniqueViolation, uniqueViolationConstraint } from '../src/prisma-errors';
import { useMigratedDatabase } from './repository-fixtures';

describe('createPrismaClient', () => {
  const prisma = useMigratedDatabase('genqueue_test_client', 2);

  it('inserts and reads a project', async () => {
    const created = await prisma.project.create({ data: { id: 'prj_client_test', name: 'client-test', limits: { max_running_jobs: 3 } } });
    expect(created.createdAt).toBeInstanceOf(Date);

    const read = await prisma.project.findUnique({ where: { id: 'prj_client_test' } });
    expect(read).toEqual(created);
    expect(read?.limits).toEqual({ max_running_jobs: 3 });
  });

  it('returns BigInt columns as bigint', async () => {
    await prisma.project.create({ data: { id: 'prj_bigint', name: 'bigint' } });
    const artifact = await prisma.artifact.create({
      data: { id: 'art_bigint', projectId: 'prj_bigint', kind: 'image', contentType: 'image/png', bytes: 5_000_000_000n, sha256: 'x', storageKey: 'k' },
    });
    expect(artifact.bytes).toBe(5_000_000_000n);
  });

  it('reports unique violations through the driver adapter as P2002 with the constraint name', async () => {
    await prisma.project.create({ data: { id: 'prj_unique_a', name: 'unique' } });
    const err: unknown = await prisma.project.create({ data: { id: 'prj_unique_b', name: 'unique' } }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'P2002' });
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(err, ['name'])).toBe(true);
    expect(isUniqueViolation(err, ['id'])).toBe(false);
    expect(uniqueViolationConstraint(err)).toBe('projects_name_key');
    expect(isPostgresUnavailable(err)).toBe(false);
  });

  it('matches a composite unique key by its fields, in a raw query too', async () => {
    const job = {
      projectId: 'prj_unique_a',
      type: 'image',
      status: 'queued',
      input: { prompt: 'a cat' },
      idempotencyKey: 'idem-1',
      queueExpiresAt: new Date(Date.now() + 60_000),
      inactivityTimeoutSec: 60,
      deadlineSec: 300,
    };
    await prisma.job.create({ data: { id: 'job_idem_1', ...job } });
    const err: unknown = await prisma.job.create({ data: { id: 'job_idem_2', ...job } }).catch((e: unknown) => e);
    expect(isUniqueViolation(err, ['projectId', 'idempotencyKey'])).toBe(true);
    expect(isUniqueViolation(err, ['idempotencyKey'])).toBe(false);

    const rawErr: unknown = await prisma.$executeRaw`INSERT INTO projects (id, name) VALUES ('prj_raw', 'unique')`.catch((e: unknown) => e);
    expect(rawErr).toMatchObject({ code: 'P2010' });
    expect(isUniqueViolation(rawErr, ['name'])).toBe(true);
  });

  it('does not take a foreign key violation for a unique one', async () => {
    const err: unknown = await prisma.apiKey
      .create({ data: { id: 'key_fk', projectId: 'prj_missing', kind: 'project', prefix: 'gq_', keyHash: 'h' } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'P2003' });
    expect(isUniqueViolation(err)).toBe(false);
  });

  it('classifies a transaction that outlives its time as unavailable (a 503, not a 500)', async () => {
    const err: unknown = await prisma
      .$transaction(async (tx) => tx.$executeRaw`SELECT pg_sleep(0.5)`, { timeout: 50 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'P2028' });
    expect(isPostgresUnavailable(err)).toBe(true);
  });

  it('classifies an unreachable server as unavailable', async () => {
    const unreachable = createPrismaClient('postgresql://postgres@127.0.0.1:1/genqueue_unreachable');
    const err: unknown = await unreachable.project.findFirst().catch((e: unknown) => e);
    await unreachable.$disconnect();
    expect(err).toMatchObject({ code: 'P1001' });
    expect(isPostgresUnavailable(err)).toBe(true);
    expect(isUniqueViolation(err)).toBe(false);
  });
});
