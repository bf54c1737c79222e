import type { Logger } from 'pino';

export type ShutdownOptions = {
  logger: Logger;
  /** the log message when a signal arrives, e.g. `api.shutting_down` (logged with the signal) */
  message: string;
  /** lets go of what the process holds; the process exits with 0 once it resolves */
  close: () => Promise<void>;
  /** exits with 0 after this long even if `close` has not resolved; no limit when absent */
  forceExitAfterMs?: number;
};

/**
 * A service's graceful stop: on the first SIGTERM or SIGINT, logs, closes and exits with 0.
 * A second signal of the other kind while closing is ignored; a second one of the same kind
 * gets Node's default handling (the process ends at once).
 */
export function exitOnSignals(options: ShutdownOptions): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    options.logger.info({ signal }, options.message);
    if (options.forceExitAfterMs !== undefined) {
      const forced = setTimeout(() => process.exit(0), options.forceExitAfterMs);
      forced.unref();
    }
    await options.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
