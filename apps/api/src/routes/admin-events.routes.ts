import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { streamEventsById } from '../services/project-event-stream';
import { ProjectLastEventIdSchema } from './events.routes';
import { parseOr400 } from './validation';

/**
 * `GET /admin/v1/events`: every project's job events as one `text/event-stream`, in event-id
 * order, each with its `project_id`; resumes after `Last-Event-ID` (an event id), else starts now.
 */
export function adminEventsRoutes(deps: ApiDeps): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    const raw = req.header('Last-Event-ID');
    const afterId = raw === undefined ? null : parseOr400(ProjectLastEventIdSchema, raw, 'Last-Event-ID header', 'Last-Event-ID');
    await streamEventsById(
      {
        readAfter: (cursor, limit) => deps.adminQueries.eventsAfter(cursor, limit),
        listen: async (wake) => deps.anyJobSignal.listen(wake),
        onError: (err) => deps.logger.warn({ err }, 'events.admin_stream_failed'),
        render: (event) => ({ ...deps.views.event(event), project_id: event.projectId }),
        heartbeatMs: deps.settings.SSE_HEARTBEAT_MS,
      },
      afterId,
      res,
    );
  });
  return router;
}
