import type { JobError } from '@genqueue/core';
import { UpstreamError } from '@genqueue/upstream';
import { JobFailure } from './handlers/job-failure';
import { MediaInputError } from './media/media-resolver';

/** What to do after a handler threw: retry later, pause the lane, or fail the job now. */
export type FailureDecision =
  | { action: 'retry'; error: JobError }
  | { action: 'rate_limited'; error: JobError }
  | { action: 'fail'; error: JobError };

const cut = (text: string, max = 500): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export function decideFailure(err: unknown): FailureDecision {
  if (err instanceof JobFailure) {
    return { action: 'fail', error: { code: err.code, message: err.message, retryable: err.retryable } };
  }
  if (err instanceof MediaInputError) {
    return { action: 'fail', error: { code: 'invalid_input', message: err.message, retryable: false } };
  }
  if (err instanceof UpstreamError) {
    const detail = cut(err.upstreamMessage || err.message);
    switch (err.kind) {
      case 'rate_limited':
        return { action: 'rate_limited', error: { code: 'upstream_error', message: `The gateway is rate limiting: ${detail}`, retryable: true } };
      case 'retryable':
        return { action: 'retry', error: { code: 'upstream_error', message: detail, retryable: true } };
      case 'rejected':
        return { action: 'fail', error: { code: 'upstream_rejected', message: detail, retryable: false } };
      case 'auth':
        return {
          action: 'fail',
          error: { code: 'upstream_auth', message: `The gateway refused our key (check UPSTREAM_API_KEY and its quota): ${detail}`, retryable: false },
        };
      case 'not_found':
        return { action: 'fail', error: { code: 'upstream_error', message: detail, retryable: false } };
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return { action: 'retry', error: { code: 'internal_error', message: cut(message), retryable: true } };
}
