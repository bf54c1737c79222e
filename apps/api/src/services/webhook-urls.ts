import { AppError } from '@genqueue/core';
import { plainUrlProblem } from '@genqueue/webhooks';

/**
 * Refuses (400) a webhook URL that can never be delivered to: not http(s), or, unless private
 * URLs are allowed, `localhost` and literal loopback/private/link-local/… addresses. Names that
 * resolve to such addresses are refused at delivery time by the guarded dispatcher (the attempt
 * is recorded with the reason).
 */
export function assertWebhookUrlAllowed(url: string | null | undefined, allowPrivate: boolean, path: string): void {
  if (url === null || url === undefined) return;
  const problem = plainUrlProblem(url, { allowPrivate });
  if (problem) throw new AppError('invalid_request', `The ${path} is not allowed`, [{ path, message: problem }]);
}
