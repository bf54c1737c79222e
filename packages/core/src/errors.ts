/** Errors the API answers with; the HTTP edge maps each code to its status (api.md error table). */
export const API_ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'unavailable',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export type ErrorDetail = { path: string; message: string };

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** seconds, for rate_limited and unavailable */
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);
export const conflict = (message: string): AppError => new AppError('conflict', message);
export const invalidRequest = (message: string, details: ErrorDetail[] = []): AppError =>
  new AppError('invalid_request', message, details);

/** Codes of a failed job's `error` (api.md Jobs). */
export const JOB_ERROR_CODES = [
  'upstream_rejected',
  'upstream_error',
  'upstream_timeout',
  /** a submit may have created a task upstream, but its answer never came: not submitted again on our own */
  'upstream_submit_unknown',
  'upstream_auth',
  'invalid_input',
  'expired',
  'internal_error',
  /** the job's worker died under it twice (killed, out of memory): it is not run a third time */
  'worker_crashed',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

export type JobError = { code: JobErrorCode; message: string; retryable: boolean };
