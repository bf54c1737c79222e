import { createPrismaClient } from '../src/client';
import { migrateDatabase } from '../src/migrate';
import type { PrismaClient } from '../src/generated/prisma/client';
import { isUniqueViolation } from '../src/prisma-errors';
import { JobsRepository } from '../src/repositories/jobs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { newJobInput } from './repository-fixtures';
import { databaseUrl, dropDatabase, randomDatabaseName } from './test-databases';

/**
 * `create` with an idempotency key on the raw path: one insert when the key is free, the unique
 * violation when another job holds it, and a key past its 24 h window moved to the new job.
 */
describe('JobsRepository create with an idempotency key', () => {
  const name = randomDatabaseName('genqueue_test_keyed');
  const url = databaseUrl(name);
  let prisma: PrismaClient;
  let jobs: JobsRepository;
  let projectId: string;

  beforeAll(async () => {
    await migrateDatabase(url);
    prisma = createPrismaClient(url, { poolMax: 2 });
    jobs = new JobsRepository(prisma, { webhookOutbox: null });
    projectId = (await new ProjectsRepository(prisma).create('keyed')).id;
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabase(name);
  });

  const keyed = (key: string) => ({ ...newJobInput(projectId, null, []), idempotencyKey: key, idempotencyHash: `hash-of-${key}` });

  it('stores the key with the job and its event, and reads it back as Prisma does', async () => {
    const { job, event } = await jobs.create(keyed('order-1'));
    const stored = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(stored).toEqual(job);
    expect(await prisma.jobEvent.count({ where: { jobId: job.id, seq: 1, type: 'job.created' } })).toBe(1);
    expect(event.jobId).toBe(job.id);
    expect(await jobs.findByIdempotencyKey(projectId, 'order-1')).toEqual(stored);
    expect(await jobs.findByIdempotencyKey(projectId, 'order-unknown')).toBeNull();
  });

  it('refuses a key another job holds with the unique violation, writing nothing', async () => {
    const first = await jobs.create(keyed('order-2'));
    const err: unknown = await jobs.create(keyed('order-2')).catch((e: unknown) => e);
    expect(isUniqueViolation(err, ['projectId', 'idempotencyKey'])).toBe(true);
    expect(await prisma.job.count({ where: { projectId, idempotencyKey: 'order-2' } })).toBe(1);
    expect((await jobs.findByIdempotencyKey(projectId, 'order-2'))?.id).toBe(first.job.id);
  });

  it('moves a key past its 24 h window to the new job', async () => {
    const old = await jobs.create(keyed('order-3'));
    await prisma.job.update({ where: { id: old.job.id }, data: { createdAt: new Date(Date.now() - 25 * 3_600_000) } });
    const fresh = await jobs.create(keyed('order-3'));
    expect(fresh.job.id).not.toBe(old.job.id);
    expect((await jobs.findByIdempotencyKey(projectId, 'order-3'))?.id).toBe(fresh.job.id);
    expect((await prisma.job.findUniqueOrThrow({ where: { id: old.job.id } })).idempotencyKey).toBeNull();
  });
});
