import { randomBytes } from 'node:crypto';
import { gatewayLaneMaxPerMinute, type Settings } from '@genqueue/config';
import {
  AdminQueries,
  AdminSessionsRepository,
  ApiKeysRepository,
  ArtifactsRepository,
  createPrismaClient,
  FilesRepository,
  JobQueries,
  JobsRepository,
  JobStatsQueries,
  ProjectsRepository,
  ProjectWeights,
  SystemSettingsRepository,
  WebhookDeliveriesRepository,
  WebhookEndpointsRepository,
  WebhookOutbox,
  WebhookSecretsRepository,
  type PrismaClient,
} from '@genqueue/db';
import { createRedis, GatewayLaneGovernor, JobEventBus, jobEventsChannel, JobQueues, LaneActivity, ProjectWaitingRoom, WebhookDeliveryQueue } from '@genqueue/queue';
import { storageFromSettings, type ObjectStorage } from '@genqueue/storage';
import { createUpstreamClient } from '@genqueue/upstream';
import { webhookFanOut } from '@genqueue/webhooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AdminSessions } from './services/admin-sessions';
import { AdminStats } from './services/admin-stats';
import { AnyJobSignal } from './services/any-job-signal';
import { ArtifactUrls } from './services/artifact-urls';
import { BulkActions } from './services/bulk-actions';
import { JobActions } from './services/job-actions';
import { JobSubmission } from './services/job-submission';
import { activeKeyCache, keyChangesChannel } from './services/key-change-signal';
import { JobViews } from './services/job-views';
import { ConnectionSlots } from './services/connection-slots';
import { JobWaiter } from './services/job-waiter';
import { JobWatchHub, type ProjectEventHead } from './services/job-watch-hub';
import { ApiMetrics } from './services/metrics';
import { SignInLimiter } from './services/sign-in-limiter';
import { SlidingWindowLimiter } from './services/sliding-window-limiter';
import type { RateLimits } from './middleware/rate-limit';
import { UpstreamInfo } from './services/upstream-info';

export type ApiDeps = {
  settings: Settings;
  logger: Logger;
  prisma: PrismaClient;
  redis: Redis;
  storage: ObjectStorage;
  projects: ProjectsRepository;
  apiKeys: ApiKeysRepository;
  jobs: JobsRepository;
  jobQueries: JobQueries;
  artifacts: ArtifactsRepository;
  files: FilesRepository;
  queues: JobQueues;
  events: JobEventBus;
  submission: JobSubmission;
  actions: JobActions;
  waiter: JobWaiter;
  views: JobViews;
  artifactUrls: ArtifactUrls;
  upstreamInfo: UpstreamInfo;
  metrics: ApiMetrics;
  webhookEndpoints: WebhookEndpointsRepository;
  webhookSecrets: WebhookSecretsRepository;
  webhookDeliveries: WebhookDeliveriesRepository;
  webhookQueue: WebhookDeliveryQueue;
  /** jobs waiting for a running slot of their project (max_running_jobs) */
  waitingRoom: ProjectWaitingRoom;
  adminQueries: AdminQueries;
  jobStats: JobStatsQueries;
  adminSessions: AdminSessions;
  signInLimiter: SignInLimiter;
  adminStats: AdminStats;
  bulkActions: BulkActions;
  /** wakes the admin event stream on a change of any job */
  anyJobSignal: AnyJobSignal;
  /** the one backstop poller of every `?wait` and job stream of this process */
  jobWatchHub: JobWatchHub;
  /** open long-lived connections of this process: SSE streams and `?wait` polls per project, admin streams */
  /** the per-project request and job-submission windows */
  rateLimits: RateLimits;
  slots: { streams: ConnectionSlots; waits: ConnectionSlots; adminStreams: ConnectionSlots };
  close(): Promise<void>;
};

/** How often the shared JobWatchHub reads the watched jobs (the backstop behind Redis signals). */
const JOB_WATCH_RECHECK_MS = 2_000;

/** job_counts folds its pending deltas this often (and before every stats read), so reads sum few rows. */
const COMPACT_COUNTS_EVERY_MS = 10_000;


/** The API's composition root: every connection is made here and handed down. */
export async function buildApiDeps(settings: Settings, logger: Logger): Promise<ApiDeps> {
  const prisma = createPrismaClient(settings.DATABASE_URL, { poolMax: settings.DATABASE_POOL_MAX, preparedStatements: settings.DATABASE_PREPARED_STATEMENTS });
  const redis = createRedis(settings.REDIS_URL, 'producer');
  const subscriber = createRedis(settings.REDIS_URL, 'worker');
  redis.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const storage = storageFromSettings(settings);
  const projects = new ProjectsRepository(prisma);
  const apiKeys = new ApiKeysRepository(prisma, activeKeyCache(redis, subscriber, keyChangesChannel(settings.QUEUE_PREFIX)));
  const jobs = new JobsRepository(prisma, { webhookOutbox: new WebhookOutbox(prisma, webhookFanOut) });
  const jobQueries = new JobQueries(prisma);
  const artifacts = new ArtifactsRepository(prisma);
  const files = new FilesRepository(prisma);
  const projectWeights = new ProjectWeights(prisma);
  const queues = new JobQueues(redis, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'), {
    isEnabled: settings.FAIR_SHARING,
    weightOf: (projectId) => projectWeights.of(projectId),
  });
  const events = new JobEventBus(redis, subscriber, jobEventsChannel(settings.QUEUE_PREFIX));
  // Changes made here (cancel) queue their webhook deliveries after the commit.
  const webhookQueue = new WebhookDeliveryQueue(redis, settings.QUEUE_PREFIX, (err) => logger.debug({ err }, 'queue.redis_error'));
  events.setDeliveryEnqueuer((ids) => webhookQueue.enqueueNew(ids));
  // A cancel here can free a running slot of a project with max_running_jobs: wake a waiting job.
  const waitingRoom = new ProjectWaitingRoom(redis, settings.QUEUE_PREFIX);
  events.setSlotReleaser((projectId) => waitingRoom.wakeOne(projectId));
  const signingSecret = await new SystemSettingsRepository(prisma).getOrCreate('artifact_url_secret', () =>
    randomBytes(32).toString('base64url'),
  );
  const artifactUrls = new ArtifactUrls(settings.artifactBaseUrl, signingSecret, settings.STORAGE_PUBLIC_LINKS === 'presigned' ? storage : null);
  const submission = new JobSubmission({
    jobs,
    files,
    artifacts,
    queues,
    events,
    logger,
    retry: { maxAttempts: settings.JOB_MAX_ATTEMPTS, baseDelayMs: settings.RETRY_BASE_DELAY_MS },
    storage,
    allowPrivateUrls: settings.allowPrivateUrls,
  });
  const sessionSecret = await new SystemSettingsRepository(prisma).getOrCreate('admin_session_secret', () =>
    randomBytes(32).toString('base64url'),
  );
  const sessionRows = new AdminSessionsRepository(prisma);
  const adminSessions = new AdminSessions(sessionRows, sessionSecret, settings.ADMIN_SESSION_HOURS * 3_600_000);
  // Ended sessions can never be used again; dropped a day after they expire (any instance may do it).
  const sessionSweepTimer = setInterval(() => {
    sessionRows.deleteEndedBefore(new Date(Date.now() - 86_400_000)).catch((err: unknown) => logger.debug({ err }, 'admin_sessions.cleanup_failed'));
  }, 3_600_000);
  sessionSweepTimer.unref();
  const actions = new JobActions(jobs, artifacts, queues, events, submission);
  const jobStats = new JobStatsQueries(prisma);
  const compactTimer = setInterval(() => {
    jobStats.compactCounts().catch((err: unknown) => logger.debug({ err }, 'stats.compact_failed'));
  }, COMPACT_COUNTS_EVERY_MS);
  compactTimer.unref();
  const bulkActions = new BulkActions(redis, settings.QUEUE_PREFIX, jobs, jobQueries, actions, logger);
  const jobWatchHub = new JobWatchHub(
    (ids) => prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, eventSeq: true } }),
    JOB_WATCH_RECHECK_MS,
    (err) => logger.warn({ err }, 'job_watch.poll_failed'),
    // the newest event of each followed project: one backward index step per project, one statement
    (projectIds) =>
      prisma.$queryRaw<ProjectEventHead[]>`
        SELECT p.id AS "projectId",
               (SELECT e.id FROM job_events e WHERE e.project_id = p.id ORDER BY e.id DESC LIMIT 1) AS "lastEventId"
          FROM unnest(${projectIds}::text[]) AS p(id)`,
  );
  const slots = {
    streams: new ConnectionSlots('event streams per project', settings.MAX_STREAMS_PER_PROJECT),
    waits: new ConnectionSlots('?wait requests per project', settings.MAX_WAITS_PER_PROJECT),
    adminStreams: new ConnectionSlots('admin event streams', settings.MAX_ADMIN_STREAMS),
  };
  const metrics = new ApiMetrics();
  events.observe((change) => metrics.jobChange(change));
  metrics.gauge('genqueue_api_open_connections', 'Open long-lived connections of this process', 'kind', () => ({
    stream: slots.streams.total(),
    wait: slots.waits.total(),
    admin_stream: slots.adminStreams.total(),
  }));
  metrics.gauge('genqueue_api_job_watch', 'The shared job watch poller: watchers now, Postgres reads so far', 'what', () => ({
    watchers: jobWatchHub.watching,
    reads: jobWatchHub.reads,
  }));
  const upstream = createUpstreamClient({ baseUrl: settings.upstreamBaseUrl, apiKey: settings.upstreamApiKey });
  return {
    settings,
    logger,
    prisma,
    redis,
    storage,
    projects,
    apiKeys,
    jobs,
    jobQueries,
    artifacts,
    files,
    queues,
    events,
    submission,
    actions,
    waiter: new JobWaiter(jobs, events, jobWatchHub),
    views: new JobViews(artifacts, artifactUrls),
    artifactUrls,
    upstreamInfo: new UpstreamInfo(upstream.account, settings.upstreamBaseUrl, settings.UPSTREAM_CACHE_SEC * 1000, logger),
    metrics,
    webhookEndpoints: new WebhookEndpointsRepository(prisma),
    webhookSecrets: new WebhookSecretsRepository(prisma),
    webhookDeliveries: new WebhookDeliveriesRepository(prisma),
    webhookQueue,
    waitingRoom,
    adminQueries: new AdminQueries(prisma),
    jobStats,
    adminSessions,
    signInLimiter: new SignInLimiter(redis, settings.QUEUE_PREFIX),
    adminStats: new AdminStats(
      jobStats,
      queues,
      new LaneActivity(redis, settings.QUEUE_PREFIX),
      redis,
      logger,
      new GatewayLaneGovernor(redis, settings.QUEUE_PREFIX, (lane) => gatewayLaneMaxPerMinute(settings.lanes, lane)),
      settings.lanes,
    ),
    bulkActions,
    anyJobSignal: new AnyJobSignal(subscriber, jobEventsChannel(settings.QUEUE_PREFIX)),
    jobWatchHub,
    slots,
    rateLimits: {
      limiter: new SlidingWindowLimiter(redis),
      prefix: settings.QUEUE_PREFIX,
      defaultRequestsPerMinute: settings.DEFAULT_REQUESTS_PER_MINUTE,
      defaultJobsPerMinute: settings.DEFAULT_JOBS_PER_MINUTE,
    },
    async close() {
      jobWatchHub.close();
      clearInterval(compactTimer);
      clearInterval(sessionSweepTimer);
      await bulkActions.close();
      await webhookQueue.close().catch(() => undefined);
      await waitingRoom.close();
      await queues.close().catch(() => undefined);
      subscriber.disconnect();
      redis.disconnect();
      await prisma.$disconnect();
    },
  };
}
