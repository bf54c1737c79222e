import express, { type Express } from 'express';
import { JOB_FAMILIES } from '@genqueue/core';
import type { ApiDeps } from './deps';
import { authenticateAdmin } from './middleware/admin-auth';
import { authenticate } from './middleware/auth';
import { clientRateLimit } from './middleware/client-rate-limit';
import { errorHandler, notFoundRoute } from './middleware/error-handler';
import { capAdminStreams } from './middleware/connection-caps';
import { rejectNulCharacters } from './middleware/nul-characters';
import { requestLog } from './middleware/request-log';
import { projectRateLimit } from './middleware/rate-limit';
import { buildOpenApiDocument } from './openapi';
import type { BullQueue } from './routes/bull-board.routes';
import { adminEventsRoutes } from './routes/admin-events.routes';
import { adminJobsRoutes } from './routes/admin-jobs.routes';
import { adminSessionRoutes } from './routes/admin-session.routes';
import { adminWebhooksRoutes } from './routes/admin-webhooks.routes';
import { adminRoutes } from './routes/admin.routes';
import { BULL_BOARD_PATH, bullBoardRoutes } from './routes/bull-board.routes';
import { dashboardRoutes } from './routes/dashboard.routes';
import { docsRoutes } from './routes/docs.routes';
import { artifactsRoutes } from './routes/artifacts.routes';
import { filesRoutes } from './routes/files.routes';
import { healthRoutes } from './routes/health.routes';
import { isSingleSubmission, jobsRoutes } from './routes/jobs.routes';
import { eventsRoutes } from './routes/events.routes';
import { webhooksRoutes } from './routes/webhooks.routes';
import { usageRoutes } from './routes/usage.routes';
import { adminUsageRoutes } from './routes/admin-usage.routes';
import { mjCompatRoutes } from './routes/compat/mj.routes';
import { openAiVideoRoutes } from './routes/compat/openai-videos.routes';

/** What bull-board shows: every job family's queue, webhook deliveries and the maintenance queue. */
function bullBoardQueues(deps: ApiDeps): BullQueue[] {
  return [...JOB_FAMILIES.map((family) => deps.queues.queue(family)), deps.webhookQueue.queue, deps.queues.maintenance];
}

/** The Express app: routers per resource, auth and rate limits in front, one error middleware. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestLog(deps.logger));
  app.use(deps.metrics.middleware());
  // Parsed after authentication, so an anonymous caller cannot make us parse 10 MB of JSON.
  const json = express.json({ limit: deps.settings.maxJsonBytes, strict: false });

  app.use('/', healthRoutes(deps));
  const openApi = buildOpenApiDocument(deps.settings.publicBaseUrl);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', docsRoutes());

  const artifactLimit = clientRateLimit(deps.rateLimits.limiter, `${deps.settings.QUEUE_PREFIX}:ratelimit:artifacts`, deps.settings.ARTIFACT_REQUESTS_PER_MINUTE, 'artifact');
  app.use('/v1/artifacts', artifactLimit, artifactsRoutes(deps));
  const rateLimit = projectRateLimit(deps.rateLimits);
  // drop-in compatible APIs (docs/compat.md), before the /v1 routers below; errors in their own shapes
  app.use('/v1/videos', openAiVideoRoutes(deps));
  app.use('/mj', mjCompatRoutes(deps));
  // a single submission's job is taken with its request: one Redis round trip for both windows
  app.use('/v1/jobs', authenticate(deps.apiKeys, 'any'), projectRateLimit(deps.rateLimits, { submitsOneJob: isSingleSubmission }), json, rejectNulCharacters, jobsRoutes(deps));
  app.use('/v1/files', authenticate(deps.apiKeys, 'any'), rateLimit, rejectNulCharacters, filesRoutes(deps));
  app.use('/v1', webhooksRoutes(deps, [authenticate(deps.apiKeys, 'any'), rateLimit, json, rejectNulCharacters]));
  app.use('/v1', eventsRoutes(deps, [authenticate(deps.apiKeys, 'any'), rateLimit]));
  app.use('/v1', usageRoutes(deps, [authenticate(deps.apiKeys, 'any'), rateLimit]));
  // The admin API takes the admin key or the dashboard's session cookie (with its CSRF token).
  const adminAuth = authenticateAdmin(deps.apiKeys, deps.adminSessions);
  app.use('/admin/session', adminSessionRoutes(deps, json));
  app.use(
    '/admin/v1',
    adminAuth,
    json,
    rejectNulCharacters,
    capAdminStreams(deps.slots.adminStreams),
    adminRoutes(deps),
    adminJobsRoutes(deps),
    adminWebhooksRoutes(deps),
    adminEventsRoutes(deps),
    adminUsageRoutes(deps),
  );
  app.use(BULL_BOARD_PATH, bullBoardRoutes(bullBoardQueues(deps), deps.apiKeys, deps.adminSessions));
  app.use('/admin', dashboardRoutes(deps.settings.DASHBOARD_DIR));

  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
