import type { JobError } from '@genqueue/core';
import { UpstreamError } from '@genqueue/upstream';
import { JobFailure } from './handlers/job-failure';
import { MediaInputError } from './media/media-resolver';

/** What to do after a handler threw: retry later, pause the lane, wait out a held lane, or fail the job now. */
export type FailureDecision =
  | { action: 'retry'; error: JobError }
  | { action: 'rate_limited'; error: JobError }
  /**
   * The gateway lane holds requests back (a learnt rate, a 429, an outage, a refused key or quota):
   * the job waits `delayMs` without using an attempt. `sent` is false when nothing left this process.
   */
  | { action: 'wait'; error: JobError; delayMs: number; sent: boolean; reason: string }
  | { action: 'fail'; error: JobError };

const HOLD_REASONS: Record<string, string> = {
  rate: 'the lane is at its request rate',
  rate_limited: 'the gateway is rate limiting (429)',
  outage: 'the gateway is failing (5xx or no answer); waiting for it to recover',
  refused: 'the gateway refused our key or its quota is spent (401/403); waiting until it accepts it again',
};

const cut = (text: string, max = 500): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export function decideFailure(err: unknown): FailureDecision {
  if (err instanceof JobFailure) {
    return { action: 'fail', error: { code: err.code, message: err.message, retryable: err.retryable } };
  }
  if (err instanceof MediaInputError) {
    return { action: 'fail', error: { code: 'invalid_input', message: err.message, retryable: false } };
  }
  if (err instanceof UpstreamError && err.laneHold) {
    const { reason, waitMs, sent } = err.laneHold;
    const why = HOLD_REASONS[reason] ?? reason;
    return { action: 'wait', delayMs: waitMs, sent, reason, error: { code: 'upstream_error', message: cut(`Waiting ${Math.ceil(waitMs / 1000)} s: ${why}`), retryable: true } };
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

/** How a held run goes into the attempt log: a 429 as `rate_limited`, an outage or a refused key as `waited`. */
export const heldOutcome = (decision: { reason: string }): 'rate_limited' | 'waited' => (decision.reason === 'rate_limited' ? 'rate_limited' : 'waited');

/** How a step that will be tried again goes into the attempt log: a 429 as `rate_limited`, anything else as `retried`. */
export const retriedOutcome = (decision: FailureDecision): 'rate_limited' | 'retried' => (decision.action === 'rate_limited' ? 'rate_limited' : 'retried');

/**
 * A request that fails every time (a "poison" input) looks like an outage when it is the lane's
 * only traffic: the lane holds, and its job would wait for ever. A job (or chunk) whose runs went
 * out and failed this many times, attempts and held runs together, is treated as failing again.
 */
export const HELD_RUNS_PER_ATTEMPT = 4;

/** `wait`, unless the caller's own sent runs already failed too often: then its usual retry or failure. */
export function unlessTriedTooOften(decision: FailureDecision, runs: number, maxAttempts: number): FailureDecision {
  if (decision.action !== 'wait' || !decision.sent || runs < maxAttempts * HELD_RUNS_PER_ATTEMPT) return decision;
  return { action: 'retry', error: decision.error };
}
