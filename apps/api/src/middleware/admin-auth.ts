import type { Request, RequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import type { AdminSession, ApiKeysRepository } from '@genqueue/db';
import { ADMIN_SESSION_COOKIE, cookieFrom, type AdminSessions } from '../services/admin-sessions';
import { resolvePrincipal } from './auth';

declare module 'express-serve-static-core' {
  interface Request {
    /** set when the request came in with the dashboard's session cookie (not a bearer key) */
    adminSession?: AdminSession;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The admin principal of a request: the bearer key when one is sent (a project key answers 403,
 * as before), else the dashboard's session cookie, which on any method other than GET/HEAD must
 * come with its `X-CSRF-Token`. Null when the request carries neither.
 */
export async function resolveAdmin(apiKeys: ApiKeysRepository, sessions: AdminSessions, req: Request): Promise<boolean> {
  if (req.headers.authorization !== undefined) {
    await resolvePrincipal(apiKeys, req, 'admin');
    return true;
  }
  const cookie = cookieFrom(req.headers.cookie, ADMIN_SESSION_COOKIE);
  if (cookie === undefined) return false;
  const session = await sessions.fromCookie(cookie);
  if (!session) throw new AppError('unauthorized', 'The admin session has ended; sign in again');
  if (!SAFE_METHODS.has(req.method) && !sessions.isCsrfTokenOf(session, req.header('X-CSRF-Token'))) {
    throw new AppError('forbidden', 'This request needs the session’s X-CSRF-Token header');
  }
  req.principal = { kind: 'admin', keyId: session.keyId };
  req.adminSession = session;
  return true;
}

/** `/admin/v1/*`: the admin key or a dashboard session; 401 with neither. */
export function authenticateAdmin(apiKeys: ApiKeysRepository, sessions: AdminSessions): RequestHandler {
  return async (req, _res, next) => {
    if (!(await resolveAdmin(apiKeys, sessions, req))) {
      throw new AppError('unauthorized', 'Missing API key: send Authorization: Bearer <admin key>, or sign in at /admin');
    }
    next();
  };
}
