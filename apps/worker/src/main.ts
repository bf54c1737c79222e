import { createLogger, exitOnSignals, loadSettings, retryUntilDone } from '@genqueue/config';
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
  logger.info({ upstreamBaseUrl: settings.upstreamBaseUrl, queues: host.workers.map((w) => w.name), httpPort: host.httpPort }, 'worker.started');
  // Active jobs get a grace period; whatever is still running is picked up again via stalled-job recovery.
  exitOnSignals({ logger, message: 'worker.shutting_down', close: () => host.close(), forceExitAfterMs: 20_000 });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
