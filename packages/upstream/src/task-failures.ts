import { UpstreamError } from './errors';
import { MjSubmitError, type MjTask } from './mj';
import type { VideoTask } from './videos';

/**
 * How a gateway task (video §8, Midjourney §9) ended badly, classified once here: the job error code
 * and whether a retry of the job may succeed. The codes are those of the job's error (`JobError`), so a
 * worker fails its job with this as it is. Decided from statuses, codes and the gateway's timeout flag,
 * never from message text.
 */
export type TaskFailureCode = 'upstream_timeout' | 'upstream_rejected' | 'upstream_error';

export interface TaskFailure {
  code: TaskFailureCode;
  message: string;
  retryable: boolean;
}

/** Codes of a failed video that mean the input was refused, not that the gateway broke. */
const VIDEO_REJECTION_CODES: ReadonlySet<string> = new Set(['moderation_blocked', 'content_policy_violation', 'invalid_value', 'invalid_request', 'invalid_size', 'prompt_blocked']);

/** A video task the gateway reports as failed: its timeout, a refused input, or a retryable failure. */
export function classifyVideoTaskFailure(task: VideoTask): TaskFailure {
  const message = task.error?.message ?? `the gateway reports the video as ${task.rawStatus}`;
  if (task.error?.isTimeout) return { code: 'upstream_timeout', message: `The gateway timed the task out: ${message}`, retryable: false };
  if (task.error?.code && VIDEO_REJECTION_CODES.has(task.error.code)) return { code: 'upstream_rejected', message, retryable: false };
  return { code: 'upstream_error', message: `${message} (upstream status ${task.rawStatus || 'empty'})`, retryable: true };
}

/** An MJ task the gateway reports as failed (FAILURE, CANCEL, or its 1 h timeout). */
export function classifyMjTaskFailure(task: MjTask): TaskFailure {
  const reason = task.failReason ?? `the gateway reports ${task.rawStatus}`;
  if (task.isTimeout) return { code: 'upstream_timeout', message: `The gateway timed the task out: ${reason}`, retryable: false };
  if (task.rawStatus.toUpperCase().startsWith('CANCEL')) return { code: 'upstream_error', message: `The task was canceled upstream: ${reason}`, retryable: true };
  return { code: 'upstream_error', message: reason, retryable: true };
}

/**
 * An MJ submit the proxy refused with a code the job fails on at once: 24 (a banned prompt) and 9
 * (the proxy's own system error: nothing was created; a retry of the job may succeed). Undefined for
 * anything else, which stays the classified UpstreamError it is.
 */
export function classifyMjSubmitRefusal(err: unknown): TaskFailure | undefined {
  if (!(err instanceof MjSubmitError)) return undefined;
  if (err.mjCode === 24) {
    const word = err.bannedWord ? ` (banned word "${err.bannedWord}")` : '';
    return { code: 'upstream_rejected', message: `Midjourney refused the prompt${word}: ${err.description}`, retryable: false };
  }
  if (err.kind === 'rejected' && err.mjCode === 9) {
    return { code: 'upstream_error', message: `Midjourney system error (code 9): ${err.description}`, retryable: true };
  }
  return undefined;
}

/** A finished task's result that the gateway no longer serves (an expired asset): nothing to download, ever. */
export function classifyResultGone(err: unknown, what: string): TaskFailure | undefined {
  if (!(err instanceof UpstreamError) || err.kind !== 'not_found') return undefined;
  return { code: 'upstream_error', message: `The ${what} is no longer available upstream: ${err.message}`, retryable: false };
}

/** A status read of a task the gateway does not know (yet: its insert may lag the submit answer). */
export const isUnknownTask = (err: unknown): boolean => err instanceof UpstreamError && err.kind === 'not_found';
