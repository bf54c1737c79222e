import type { ErrorRequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import type { Logger } from 'pino';
import { finishReading, HTTP_STATUS, toAppError } from '../../middleware/error-handler';

/**
 * An error middleware for one compat router: the error in that API's own shape. A request refused
 * before its body was read is drained (or, when too large, its connection closed), as elsewhere.
 */
export function compatErrorHandler(logger: Logger, render: (error: AppError | null, status: number) => unknown): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (!req.complete) finishReading(req, res, appError ?? err);
    if (!appError) logger.error({ err }, 'http.unhandled_error');
    const status = appError ? HTTP_STATUS[appError.code] : 500;
    if (appError?.retryAfterSec !== undefined) res.setHeader('Retry-After', String(appError.retryAfterSec));
    res.status(status).json(render(appError, status));
  };
}

/**
 * midjourney-proxy's result shape for a refused request, with a 4xx/5xx status: `code` 3 (not
 * found), 23 (queue rejected: over the rate limit), 9 (system error: unavailable, internal), 4
 * (any other refusal: validation, key, conflict, size).
 * `properties` carries genqueue's code and the failing fields.
 */
export function mjErrorBody(error: AppError | null): { code: number; description: string; result: null; properties: Record<string, unknown> } {
  if (!error) return { code: 9, description: 'Internal error', result: null, properties: { error_code: 'internal_error' } };
  const code = error.code === 'not_found' ? 3 : error.code === 'rate_limited' ? 23 : error.code === 'unavailable' ? 9 : 4;
  const description = error.details.length > 0 ? `${error.message}: ${error.details.map((d) => `${d.path} ${d.message}`).join('; ')}` : error.message;
  return { code, description, result: null, properties: { error_code: error.code, details: error.details } };
}

const OPENAI_TYPES: Record<string, string> = {
  invalid_request: 'invalid_request_error',
  unauthorized: 'invalid_request_error',
  forbidden: 'invalid_request_error',
  not_found: 'invalid_request_error',
  conflict: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  unavailable: 'server_error',
};

const OPENAI_CODES: Record<string, string | null> = {
  invalid_request: 'invalid_value',
  unauthorized: 'invalid_api_key',
  forbidden: null,
  not_found: 'not_found',
  conflict: 'idempotency_key_conflict',
  payload_too_large: 'payload_too_large',
  rate_limited: 'rate_limit_exceeded',
  unavailable: 'service_unavailable',
};

/** OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`; `param` is the first failing field. */
export function openAiErrorBody(error: AppError | null): { error: { message: string; type: string; param: string | null; code: string | null } } {
  if (!error) return { error: { message: 'Internal error', type: 'server_error', param: null, code: null } };
  const first = error.details[0];
  const message = first && first.path !== '(body)' && first.path !== '(request)' ? `${error.message}: ${first.path} ${first.message}` : error.message;
  return {
    error: {
      message,
      type: OPENAI_TYPES[error.code] ?? 'invalid_request_error',
      param: first && !first.path.startsWith('(') ? first.path : null,
      code: OPENAI_CODES[error.code] ?? null,
    },
  };
}
