import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import { AppError } from '@genqueue/core';
import type { ApiKeysRepository } from '@genqueue/db';
import type { JobQueues } from '@genqueue/queue';
import { resolveAdmin } from '../middleware/admin-auth';
import type { AdminSessions } from '../services/admin-sessions';
import { pageSecurityHeaders } from './dashboard.routes';

export const BULL_BOARD_PATH = '/admin/queues';
const SIGN_IN_PAGE = `/admin/login?next=${encodeURIComponent(BULL_BOARD_PATH)}`;

/**
 * bull-board's own page needs more than the dashboard's policy: its stylesheet pulls Google
 * Fonts. Scoped to /admin/queues only; scripts stay 'self'.
 */
const BULL_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' data: https://fonts.gstatic.com",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A BullMQ queue (bullmq itself is the queue package's dependency, not the API's). */
export type BullQueue = ReturnType<JobQueues['queue']>;

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * `/admin/queues`: BullMQ's raw view, read only (bull-board's retry and remove would bypass
 * genqueue's state transitions), behind the admin key or the dashboard session. A browser without
 * a session is sent to the dashboard's sign-in page, which comes back here.
 */
export function bullBoardRoutes(queues: readonly BullQueue[], apiKeys: ApiKeysRepository, sessions: AdminSessions): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    // @bull-board/express carries its own copy of @bull-board/api's types; the shapes are the same
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'genqueue queues' } },
  });
  const router = Router();
  router.use(pageSecurityHeaders(BULL_BOARD_CSP));
  router.use(async (req, res, next) => {
    const isPage = READ_METHODS.has(req.method) && !req.path.startsWith('/api/') && !req.path.startsWith('/static/');
    let isSignedIn: boolean;
    try {
      isSignedIn = await resolveAdmin(apiKeys, sessions, req);
    } catch (err) {
      if (!(isPage && err instanceof AppError && err.code === 'unauthorized')) throw err;
      isSignedIn = false;
    }
    if (!isSignedIn) {
      if (isPage) return res.redirect(302, SIGN_IN_PAGE);
      throw new AppError('unauthorized', 'Sign in at /admin, or send Authorization: Bearer <admin key>');
    }
    // belt and braces on top of readOnlyMode: nothing here changes a queue
    if (!READ_METHODS.has(req.method)) throw new AppError('forbidden', 'The queue view is read only');
    next();
  });
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
