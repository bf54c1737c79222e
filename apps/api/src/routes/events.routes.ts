import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { idPattern } from '@genqueue/core';
import type { ApiDeps } from '../deps';
import { requireProjectId } from '../middleware/auth';
import { streamProjectEvents } from '../services/project-event-stream';
import { parseOr400 } from './validation';

/** The id of the last event a reconnecting client of `GET /v1/events` saw. */
export const ProjectLastEventIdSchema = z
  .string()
  .trim()
  .regex(idPattern('evt'), 'must be the id of an event (evt_…)');

/** `GET /v1/events`: the live events of every job of the project (api.md; resumable by event id). */
export function eventsRoutes(deps: ApiDeps, guard: RequestHandler[]): Router {
  const router = Router();
  router.get('/events', ...guard, async (req, res) => {
    const projectId = requireProjectId(req);
    const raw = req.header('Last-Event-ID');
    const afterId = raw === undefined ? null : parseOr400(ProjectLastEventIdSchema, raw, 'Last-Event-ID header', 'Last-Event-ID');
    res.on('close', deps.slots.streams.acquire(projectId));
    await streamProjectEvents(
      {
        jobQueries: deps.jobQueries,
        events: deps.events,
        hub: deps.jobWatchHub,
        logger: deps.logger,
        render: (e) => deps.views.event(e),
        heartbeatMs: deps.settings.SSE_HEARTBEAT_MS,
      },
      projectId,
      afterId,
      res,
    );
  });
  return router;
}
