import { Router, type CookieOptions, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError } from '@genqueue/core';
import type { AdminSession } from '@genqueue/db';
import type { ApiDeps } from '../deps';
import { ADMIN_COOKIE_PATH, ADMIN_SESSION_COOKIE, cookieFrom } from '../services/admin-sessions';
import { parseOr400 } from './validation';

export const SignInSchema = z.strictObject({ key: z.string().min(1).max(512) });

/** The wire form of a session; `csrf_token` goes into `X-CSRF-Token` on every mutating request. */
export const AdminSessionSchema = z.object({
  object: z.literal('admin_session'),
  expires_at: z.string(),
  csrf_token: z.string().describe('send it as X-CSRF-Token on every request other than GET/HEAD made with the cookie'),
});

function sessionView(session: AdminSession, csrfToken: string): z.output<typeof AdminSessionSchema> {
  return { object: 'admin_session', expires_at: session.expiresAt.toISOString(), csrf_token: csrfToken };
}

/** `POST/GET/DELETE /admin/session`: the dashboard exchanges the admin key for a session cookie (admin-api.md). */
export function adminSessionRoutes(deps: ApiDeps, json: RequestHandler): Router {
  const router = Router();
  const { adminSessions: sessions, signInLimiter: limiter } = deps;
  const cookieOptions: CookieOptions = {
    httpOnly: true,
    sameSite: 'strict',
    path: ADMIN_COOKIE_PATH,
    secure: deps.settings.publicBaseUrl.startsWith('https:'),
  };

  router.post('/', json, async (req, res) => {
    // trust proxy is off: this is the socket's address, which a client cannot choose
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    await limiter.assertAllowed(address);
    const { key } = parseOr400(SignInSchema, req.body ?? {}, 'sign-in request');
    const record = await deps.apiKeys.findActiveByKey(key);
    if (!record || record.kind !== 'admin') {
      await limiter.recordFailure(address);
      throw new AppError('unauthorized', 'That admin key is not valid');
    }
    const opened = await sessions.open(record.id);
    res.cookie(ADMIN_SESSION_COOKIE, opened.cookieValue, { ...cookieOptions, maxAge: sessions.lifeSec * 1000 });
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessionView(opened.session, opened.csrfToken));
  });

  router.get('/', async (req, res) => {
    const session = await sessions.fromCookie(cookieFrom(req.headers.cookie, ADMIN_SESSION_COOKIE));
    if (!session) throw new AppError('unauthorized', 'Not signed in');
    res.setHeader('Cache-Control', 'no-store');
    res.json(sessionView(session, sessions.csrfTokenOf(session.id)));
  });

  // No CSRF token needed: ending a session is what a stale or foreign page should be able to do.
  router.delete('/', async (req, res) => {
    await sessions.close(cookieFrom(req.headers.cookie, ADMIN_SESSION_COOKIE));
    res.clearCookie(ADMIN_SESSION_COOKIE, cookieOptions);
    res.status(204).end();
  });

  return router;
}
