import { createPrismaClient } from '../src/client';
import { migrateDatabase } from '../src/migrate';
import type { PrismaClient } from '../src/generated/prisma/client';
import { JobsRepository, type NewJob } from '../src/repositories/jobs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { WebhookDeliveriesRepository } from '../src/repositories/webhook-deliveries.repository';
import { WebhookEndpointsRepository } from '../src/repositories/webhook-endpoints.repository';
import { WebhookOutbox } from '../src/repositories/webhook-outbox';
import { WebhookSecretsRepository } from '../src/repositories/webhook-secrets.repository';
import { fakeFanOut } from './fake-fan-out';
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
  endpoints: WebhookEndpointsRepository;
  secrets: WebhookSecretsRepository;
  deliveries: WebhookDeliveriesRepository;
  /** A new project named `<projectPrefix>-<n>`; returns its id. */
  newProject: () => Promise<string>;
};

/**
 * The repositories the webhook tests work with, over a database of their own (`useMigratedDatabase`).
 * Job changes write their deliveries through `fakeFanOut` unless `webhookOutbox` is false.
 */
export function useRepositories(prefix: string, options: { projectPrefix: string; webhookOutbox?: boolean }): RepositoryFixture {
  const prisma = useMigratedDatabase(prefix, 5);
  const jobs = new JobsRepository(prisma, { webhookOutbox: options.webhookOutbox === false ? null : new WebhookOutbox(prisma, fakeFanOut()) });
  const projects = new ProjectsRepository(prisma);
  let seq = 0;
  return {
    prisma,
    jobs,
    endpoints: new WebhookEndpointsRepository(prisma),
    secrets: new WebhookSecretsRepository(prisma),
    deliveries: new WebhookDeliveriesRepository(prisma),
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
