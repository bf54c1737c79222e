import { UpstreamError } from '@genqueue/upstream';

/**
 * Statuses a proxy in front of the gateway answers when it lost the gateway's answer (bad gateway,
 * gateway timeout, Cloudflare's 524): the gateway may have created the task all the same.
 */
const PROXY_LOST_ANSWER_STATUSES: readonly number[] = [502, 504, 524];

/**
 * Whether a failed submit may still have created the task upstream: no answer at all (timeout,
 * reset, anything thrown after the request left), or a proxy's "I lost the answer". An answer from
 * the gateway itself (429, 500, 503, a refusal) means nothing was created; so does a request the
 * lane gate held back before it left.
 */
export function isUnknownSubmitOutcome(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return true;
  if (err.laneHold && !err.laneHold.sent) return false;
  return err.httpStatus === undefined || PROXY_LOST_ANSWER_STATUSES.includes(err.httpStatus);
}

/** A few words on why the outcome is unknown, for the job's error message. */
export function describeUnknownOutcome(err: unknown): string {
  if (err instanceof UpstreamError && err.httpStatus !== undefined) return `the gateway's proxy answered HTTP ${err.httpStatus}`;
  const detail = err instanceof Error ? err.message : String(err);
  return `no answer came: ${detail.length > 200 ? `${detail.slice(0, 200)}…` : detail}`;
}
