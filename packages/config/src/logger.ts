import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import type { Settings } from './settings';

/** Fields every log line written inside `withLogContext` carries: a request's id, the job it runs. */
export type LogContext = { request_id?: string; job_id?: string };

const logContext = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `fields` added to every log line it leads to, however deep (awaits included). */
export function withLogContext<T>(fields: LogContext, work: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, work);
}

/** The log context of the code running now (empty outside `withLogContext`). */
export function currentLogContext(): LogContext {
  return logContext.getStore() ?? {};
}

/** The root logger of a process: structured JSON, secrets redacted, the log context on every line. */
export function createLogger(settings: Pick<Settings, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: settings.LOG_LEVEL,
    mixin: () => logContext.getStore() ?? {},
    redact: {
      paths: ['*.apiKey', '*.authorization', '*.headers.authorization', 'req.headers.authorization', '*.key', '*.secret'],
      censor: '[redacted]',
    },
  });
}
