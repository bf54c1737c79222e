import pino, { type Logger } from 'pino';
import type { Settings } from './settings';

/** The root logger of a process: structured JSON, secrets redacted. */
export function createLogger(settings: Pick<Settings, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: settings.LOG_LEVEL,
    redact: {
      paths: ['*.apiKey', '*.authorization', '*.headers.authorization', 'req.headers.authorization', '*.key', '*.secret'],
      censor: '[redacted]',
    },
  });
}
