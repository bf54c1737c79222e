import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { API_ERROR_CODES, AppError, type ApiErrorCode } from '@genqueue/core';
import { isPostgresUnavailable } from '@genqueue/db';
import { RedisUnavailableError } from '@genqueue/queue';
import type { Logger } from 'pino';
import { z } from 'zod';

/** The HTTP status of each error code of the contract (the compatible routes answer the same statuses). */
export const HTTP_STATUS: Record<ApiErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** Every error answer (api.md): `details` lists the failing fields of an invalid request. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum([...API_ERROR_CODES, 'internal_error']),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});

export function errorBody(err: AppError): z.output<typeof ErrorBodySchema> {
  return { error: { code: err.code, message: err.message, details: err.details } };
}

/** Turns body-parser's own errors (bad JSON, too large) into the contract's errors. */
function fromBodyParser(err: { type?: string; status?: number; message?: string }): AppError | null {
  if (err.type === 'entity.parse.failed') {
    return new AppError('invalid_request', 'The request body is not valid JSON', [{ path: '(body)', message: err.message ?? 'invalid JSON' }]);
  }
  if (err.type === 'entity.too.large') return new AppError('payload_too_large', 'The request body is too large');
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
    return new AppError('invalid_request', 'The request body encoding is not supported');
  }
  return null;
}

/**
 * Other client errors raised by Express or its parsers carry an HTTP status (a path that is not
 * valid percent-encoding, a body that does not inflate): they are the client's, not ours.
 */
function fromClientStatus(err: { status?: unknown; statusCode?: unknown; message?: unknown }): AppError | null {
  const status = typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : null;
  if (status === null || status < 400 || status >= 500) return null;
  const message = typeof err.message === 'string' && err.message ? err.message : 'The request is malformed';
  if (status === 404) return new AppError('not_found', message);
  if (status === 413) return new AppError('payload_too_large', message);
  return new AppError('invalid_request', `The request is malformed: ${message}`, [{ path: '(request)', message }]);
}

/**
 * A request refused before its body was read to the end. A parser that stopped half way (busboy
 * on a malformed part, raw-body on an oversized body) leaves the stream paused, and Node only
 * discards the rest of bodies nobody started reading: the rest would sit on the keep-alive
 * connection and the client's next request there would hang. So the rest is read and dropped
 * (the client can finish sending and read the answer); past the size limit, the connection is
 * closed instead of reading an unbounded body.
 */
export function finishReading(req: Request, res: Response, err: unknown): void {
  if ((err as { type?: string })?.type === 'entity.too.large' || (err instanceof AppError && err.code === 'payload_too_large')) {
    res.setHeader('Connection', 'close');
    return;
  }
  req.unpipe();
  req.resume();
}

/** Any error a route or middleware threw as the AppError the contract answers; null: ours (a 500). */
export function toAppError(err: any): AppError | null {
  if (err instanceof AppError) return err;
  const known = fromBodyParser(err ?? {}) ?? fromClientStatus(err ?? {});
  if (known) return known;
  if (isPostgresUnavailable(err)) return new AppError('unavailable', 'The database is unreachable; try again shortly', [], 5);
  if (err instanceof RedisUnavailableError || err?.name === 'MaxRetriesPerRequestError') {
    return new AppError('unavailable', 'Redis is unreachable; try again shortly', [], 5);
  }
  return null;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (!req.complete) finishReading(req, res, err);
    const appError = toAppError(err);
    if (!appError) {
      logger.error({ err }, 'http.unhandled_error');
      res.status(500).json({ error: { code: 'internal_error', message: 'Internal error', details: [] } });
      return;
    }
    if (appError.retryAfterSec !== undefined) res.setHeader('Retry-After', String(appError.retryAfterSec));
    res.status(HTTP_STATUS[appError.code]).json(errorBody(appError));
  };
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No route for ${req.method} ${req.path}`));
};
