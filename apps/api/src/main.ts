import { createLogger, exitOnSignals, loadSettings, retryUntilDone } from '@genqueue/config';
import { createPrismaClient, ensureBootstrap, migrateDatabase } from '@genqueue/db';
import { startApi } from './server';

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(settings, 'api');
  await retryUntilDone(
    () => migrateDatabase(settings.DATABASE_URL),
    (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs }, 'api.waiting_for_postgres'),
  );
  const prisma = createPrismaClient(settings.DATABASE_URL);
  const boot = await ensureBootstrap(prisma, settings.ADMIN_API_KEY);
  await prisma.$disconnect();
  if (boot.createdProjectKey) console.log(`Created project "default" with API key: ${boot.createdProjectKey}`);
  if (boot.createdAdminKey) console.log(`Created admin key: ${boot.createdAdminKey}`);
  const api = await startApi(settings, logger);
  logger.info({ url: api.url }, 'api.listening');
  exitOnSignals({ logger, message: 'api.shutting_down', close: () => api.close() });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
