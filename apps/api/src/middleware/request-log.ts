import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ulid } from '@genqueue/core';
import { withLogContext } from '@genqueue/config';
import type { Logger } from 'pino';
import './auth';

/** An id a caller or a proxy in front may send; anything else is replaced by our own. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes: logged at debug so they do not drown the access log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The request id of a request (set by `requestLog`). */
export function requestIdOf(res: Response): string | undefined {
  const id = res.locals['requestId'];
  return typeof id === 'string' ? id : undefined;
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is a plain token, else `req_…`),
 * answers it in `X-Request-Id`, and writes one access-log line when the answer is done: method, the
 * route's path without its query string (signed links carry their signature there), status,
 * duration and the project once authenticated. Bodies, headers and keys are never logged.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && CALLER_REQUEST_ID.test(incoming) ? incoming : `req_${ulid()}`;
    res.locals['requestId'] = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    let logged = false;
    const line = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const fields = {
        request_id: requestId,
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        ...(req.principal?.kind === 'project' ? { project_id: req.principal.projectId } : {}),
        ...(aborted ? { aborted: true } : {}),
      };
      if (QUIET_PATHS.has(path)) logger.debug(fields, 'http.request');
      else if (res.statusCode >= 500) logger.warn(fields, 'http.request');
      else logger.info(fields, 'http.request');
    };
    res.once('finish', () => line(false));
    res.once('close', () => line(!res.writableFinished));
    // every log line of this request, and the jobs it submits, carry its id
    withLogContext({ request_id: requestId }, next);
  };
}
