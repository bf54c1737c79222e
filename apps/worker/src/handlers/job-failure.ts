import type { JobErrorCode } from '@genqueue/core';

/** A deliberate, final failure decided by a handler (e.g. the gateway answered without an image). */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}
