import { createLogger, exitOnSignals, loadSettings, retryUntilDone } from '@genqueue/config';
import path from 'node:path';
import { createPrismaClient, ensureBootstrap, firstStartKeyLines, keepFirstStartKeys, migrateDatabase } from '@genqueue/db';
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
  const keyLines = firstStartKeyLines(boot);
  if (keyLines.length > 0) {
    // Keys never go to a log: a terminal sees them once, a file readable by its owner keeps them.
    const file = keepFirstStartKeys(keyLines, path.dirname(path.resolve(settings.STORAGE_DIR)));
    if (process.stdout.isTTY) console.log(['First start: these keys are shown once', ...keyLines].join('\n'));
    logger.warn({ file }, 'api.first_start_keys_written');
  }
  if (boot.configuredAdminKeyRevoked) logger.warn('api.configured_admin_key_revoked: ADMIN_API_KEY names a revoked key; set a new one');
  if (boot.replacedAdminKeys > 0) logger.info({ revoked: boot.replacedAdminKeys }, 'api.previous_admin_key_revoked');
  const api = await startApi(settings, logger);
  // other API processes may hold the replaced admin key in their key caches: they forget it now
  if (boot.replacedAdminKeys > 0) await api.deps.apiKeys.keysChanged();
  logger.info({ url: api.url }, 'api.listening');
  exitOnSignals({ logger, message: 'api.shutting_down', close: () => api.close() });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
