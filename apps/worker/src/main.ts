import { createLogger, loadSettings, retryUntilDone } from '@genqueue/config';
import { migrateDatabase } from '@genqueue/db';
import { startWorkers } from './worker-host';

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger(settings, 'worker');
  await retryUntilDone(
    () => migrateDatabase(settings.DATABASE_URL),
    (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs }, 'worker.waiting_for_postgres'),
  );
  const host = await startWorkers(settings, logger);
  logger.info({ upstreamBaseUrl: settings.upstreamBaseUrl, queues: host.workers.map((w) => w.name) }, 'worker.started');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker.shutting_down');
    // Active jobs get a grace period; whatever is still running is picked up again via stalled-job recovery.
    const forced = setTimeout(() => process.exit(0), 20_000);
    forced.unref();
    await host.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
