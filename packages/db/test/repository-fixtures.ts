import { createPrismaClient } from '../src/client';
import { migrateDatabase } from '../src/migrate';
import type { PrismaClient } from '../src/generated/prisma/client';
import { JobsRepository, type JobsRepositoryOptions, type NewJob } from '../src/repositories/jobs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { WebhooksRepository } from '../src/repositories/webhooks.repository';
import { databaseUrl, dropDatabase, randomDatabaseName } from './test-databases';

/** A valid webhook secret, distinct per `n`. */
export const secretOf = (n: number): string => `whsec_${Buffer.alloc(32, n).toString('base64')}`;

/**
 * A migrated database of its own for the enclosing `describe`, dropped after it. The client is made
 * at once (it connects on its first query), so a test file may take it and build on it directly.
 */
export function useMigratedDatabase(prefix: string, poolMax: number): PrismaClient {
  const name = randomDatabaseName(prefix);
  const url = databaseUrl(name);
  const prisma = createPrismaClient(url, { poolMax });

  beforeAll(async () => {
    await migrateDatabase(url);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await dropDatabase(name);
  });

  return prisma;
}

export type RepositoryFixture = {
  prisma: PrismaClient;
  jobs: JobsRepository;
  webhooks: WebhooksRepository;
  /** A new project named `<projectPrefix>-<n>`; returns its id. */
  newProject: () => Promise<string>;
};

/** The repositories the webhook tests work with, over a database of their own (`useMigratedDatabase`). */
export function useRepositories(prefix: string, options: JobsRepositoryOptions & { projectPrefix: string }): RepositoryFixture {
  const prisma = useMigratedDatabase(prefix, 5);
  const jobs = new JobsRepository(prisma, { webhookOutbox: options.webhookOutbox });
  const projects = new ProjectsRepository(prisma);
  let seq = 0;
  return {
    prisma,
    jobs,
    webhooks: new WebhooksRepository(prisma),
    newProject: async () => (await projects.create(`${options.projectPrefix}-${(seq += 1)}`)).id,
  };
}

/** An image.generate job of `projectId` with these webhook settings and the usual limits. */
export const newJobInput = (projectId: string, webhookUrl: string | null, webhookEvents: string[]): NewJob => ({
  projectId,
  type: 'image.generate',
  input: { prompt: 'a red fox' },
  metadata: {},
  priority: 5,
  webhookUrl,
  webhookEvents,
  idempotencyKey: null,
  idempotencyHash: null,
  parentId: null,
  ttlSec: 3600,
  inactivityTimeoutSec: 300,
  deadlineSec: 600,
});
