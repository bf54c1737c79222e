import { UpstreamError, upstreamErrorFromResponse, type UpstreamErrorKind } from '@genqueue/upstream';
import { decideFailure } from '../src/failure-policy';
import { JobFailure } from '../src/handlers/job-failure';
import { MediaInputError } from '../src/media/media-resolver';

const upstream = (kind: UpstreamErrorKind, extra: { upstreamMessage?: string } = {}) =>
  new UpstreamError({ kind, message: `summary of ${kind}`, ...extra });

describe('decideFailure', () => {
  it.each<[UpstreamErrorKind, string, string, boolean]>([
    ['rate_limited', 'rate_limited', 'upstream_error', true],
    ['retryable', 'retry', 'upstream_error', true],
    ['rejected', 'fail', 'upstream_rejected', false],
    ['auth', 'fail', 'upstream_auth', false],
    ['not_found', 'fail', 'upstream_error', false],
  ])('an UpstreamError of kind %s → %s with %s (retryable %s)', (kind, action, code, retryable) => {
    const decision = decideFailure(upstream(kind));
    expect(decision.action).toBe(action);
    expect(decision.error).toMatchObject({ code, retryable });
  });

  it('classifies real gateway answers, never their text', () => {
    const empty429 = upstreamErrorFromResponse({ status: 429, bodyText: '' });
    expect(decideFailure(empty429).action).toBe('rate_limited');
    const html502 = upstreamErrorFromResponse({ status: 502, bodyText: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' });
    expect(decideFailure(html502)).toMatchObject({ action: 'retry', error: { code: 'upstream_error', retryable: true } });
    const banned = upstreamErrorFromResponse({
      status: 400,
      bodyText: JSON.stringify({ error: { message: '内容违规', type: 'invalid_request_error', code: 'content_policy_violation' } }),
    });
    expect(decideFailure(banned)).toMatchObject({ action: 'fail', error: { code: 'upstream_rejected', message: '内容违规' } });
    const quota = upstreamErrorFromResponse({
      status: 403,
      bodyText: JSON.stringify({ error: { message: '用户额度不足', type: 'new_api_error', code: 'insufficient_user_quota' } }),
    });
    expect(decideFailure(quota)).toMatchObject({ action: 'fail', error: { code: 'upstream_auth' } });
  });

  it('prefers the gateway message over the summary, cut to about 500 characters', () => {
    expect(decideFailure(upstream('rejected', { upstreamMessage: 'prompt refused' })).error.message).toBe('prompt refused');
    expect(decideFailure(upstream('rejected')).error.message).toBe('summary of rejected');
    const long = decideFailure(upstream('retryable', { upstreamMessage: 'x'.repeat(2_000) })).error.message;
    expect(long.length).toBeLessThanOrEqual(501);
    expect(long.endsWith('…')).toBe(true);
  });

  it('names the setting to check when the gateway refuses the key', () => {
    expect(decideFailure(upstream('auth')).error.message).toContain('UPSTREAM_API_KEY');
  });

  it('fails a handler decision as given', () => {
    expect(decideFailure(new JobFailure('upstream_rejected', 'no image (finish reason: IMAGE_SAFETY)'))).toEqual({
      action: 'fail',
      error: { code: 'upstream_rejected', message: 'no image (finish reason: IMAGE_SAFETY)', retryable: false },
    });
    expect(decideFailure(new JobFailure('upstream_error', 'empty answer', true)).error.retryable).toBe(true);
  });

  it('fails unusable media inputs as invalid_input', () => {
    expect(decideFailure(new MediaInputError('file file_X no longer exists'))).toEqual({
      action: 'fail',
      error: { code: 'invalid_input', message: 'file file_X no longer exists', retryable: false },
    });
  });

  it('retries anything unexpected as internal_error', () => {
    expect(decideFailure(new Error('connection terminated'))).toEqual({
      action: 'retry',
      error: { code: 'internal_error', message: 'connection terminated', retryable: true },
    });
    expect(decideFailure('a string').error.message).toBe('a string');
  });
});
