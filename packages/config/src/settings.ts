import { z } from 'zod';
import { JOB_FAMILIES } from '@genqueue/core';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

/**
 * Lane limits: how many calls of a lane run at once, and how many gateway requests it may send per
 * minute (the most; a lane learns a lower rate from the gateway's 429s). Task lanes (video, mj)
 * also have a budget for status polls of their own, so polls of parked tasks never starve submits.
 */
/** A lane of limits per job family (LANE_<FAMILY>_CONCURRENCY, …). */
export const LANE_NAMES = JOB_FAMILIES;
export type LaneName = (typeof LANE_NAMES)[number];
export type LaneLimits = { concurrency: number; requestsPerMinute: number; pollRequestsPerMinute: number };

const LANE_DEFAULTS: Record<LaneName, LaneLimits> = {
  image: { concurrency: 8, requestsPerMinute: 120, pollRequestsPerMinute: 0 },
  // 2,000 videos polled every 10 s on average need 12,000 polls a minute
  video: { concurrency: 20, requestsPerMinute: 120, pollRequestsPerMinute: 12_000 },
  // MJ polls are batched (a hundred tasks a request)
  mj: { concurrency: 20, requestsPerMinute: 120, pollRequestsPerMinute: 1_200 },
  audio: { concurrency: 4, requestsPerMinute: 60, pollRequestsPerMinute: 0 },
  embedding: { concurrency: 4, requestsPerMinute: 600, pollRequestsPerMinute: 0 },
};

export const SettingsSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** the API's listen address: loopback unless an operator opens it (the container image sets 0.0.0.0) */
  HOST: z.string().default('127.0.0.1'),
  /** the worker's /metrics, /healthz and /readyz; unset: the API's PORT + 1; 0 turns it off */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/genqueue'),
  /** Postgres connections per process (API or worker); the worker's webhook lane and job lanes share them */
  DATABASE_POOL_MAX: positiveInt.default(20),
  /**
   * our raw statements run as named prepared statements (parsed and planned once per connection);
   * false behind a pooler in transaction mode that does not carry them (PgBouncer before 1.21)
   */
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /**
   * Redis key prefix. Each queue adds its own hash tag (`gq:{job-image}:…`) so a Redis Cluster spreads
   * the queues over its shards; braces given here are dropped (an older default was `{gq}`).
   */
  QUEUE_PREFIX: z
    .string()
    .transform((prefix) => prefix.replace(/[{}]/g, ''))
    .pipe(z.string().min(1))
    .default('gq'),
  UPSTREAM_BASE_URL: z.url().optional(),
  UPSTREAM_API_KEY: z.string().optional(),
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(8090),
  SIMULATOR_FAST_TIME: bool.default(false),
  ADMIN_API_KEY: z.string().min(16).optional(),
  STORAGE_DIR: z.string().default('./data/artifacts'),
  /** where artifact and upload bytes live: a local directory (STORAGE_DIR) or an S3-compatible bucket */
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  S3_BUCKET: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** an S3-compatible server (MinIO, R2, Ceph…); unset: AWS S3 of S3_REGION */
  S3_ENDPOINT: z.url().optional(),
  /** unset (both): the AWS SDK's default credential chain (environment, shared config, instance role) */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** bucket in the path (`host/bucket/key`), as most S3-compatible servers want */
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** artifact links: through the API's signed route (`api`), or presigned GETs straight to the bucket (`presigned`, S3 only) */
  STORAGE_PUBLIC_LINKS: z.enum(['api', 'presigned']).default('api'),
  PUBLIC_BASE_URL: z.url().optional(),
  /** where signed artifact links point: a separate origin keeps artifact bytes away from the API's and the dashboard's */
  ARTIFACT_BASE_URL: z.url().optional(),
  ALLOW_PRIVATE_URLS: bool.optional(),
  /** all media one job run reads or stores (inputs, downloaded links, results), in bytes */
  MEDIA_JOB_MAX_BYTES: positiveInt.default(256 * 1024 * 1024),
  /** links a media.chat answer may have downloaded; later ones stay in the text only */
  MEDIA_CHAT_MAX_LINKS: z.coerce.number().int().min(0).default(8),
  MAX_JSON_MB: z.coerce.number().positive().default(10),
  UPLOAD_LIMIT_AUDIO_MB: z.coerce.number().positive().default(25),
  UPLOAD_LIMIT_IMAGE_MB: z.coerce.number().positive().default(50),
  UPLOAD_LIMIT_BATCH_MB: z.coerce.number().positive().default(512),
  /** default per-project request limit when a project sets none */
  DEFAULT_REQUESTS_PER_MINUTE: positiveInt.default(600),
  /** default per-project limit of jobs submitted per minute (bulk ones each counted); unset: 10 × the request limit */
  DEFAULT_JOBS_PER_MINUTE: positiveInt.optional(),
  JOB_MAX_ATTEMPTS: positiveInt.default(5),
  RETRY_BASE_DELAY_MS: positiveInt.default(2_000),
  RETRY_MAX_DELAY_MS: positiveInt.default(120_000),
  /** the shortest pause of a lane after a gateway 429 without Retry-After (it grows with repeats) */
  RATE_LIMIT_PAUSE_MS: positiveInt.default(5_000),
  /** consecutive 5xx answers or timeouts that hold a gateway lane as an outage */
  GATEWAY_OUTAGE_THRESHOLD: positiveInt.default(5),
  /** how long an outage holds a lane before one probe request (doubles while probes fail, up to a minute) */
  GATEWAY_OUTAGE_HOLD_MS: positiveInt.default(5_000),
  /** how long a refused key or spent quota (401/403) holds a lane before one probe */
  GATEWAY_REFUSED_HOLD_MS: positiveInt.default(30_000),
  SWEEP_INTERVAL_MS: positiveInt.default(15_000),
  /**
   * A running job whose worker process died under it this many times is failed as `worker_crashed`
   * instead of run again (a job that kills its worker). Every job running in a process that dies
   * counts one death, so raise it where workers are killed from outside often.
   */
  WORKER_CRASH_LIMIT: z.coerce.number().int().min(2).max(100).default(2),
  /** how often the retention pruner runs (one process at a time, through a Postgres lease) */
  RETENTION_INTERVAL_MS: positiveInt.default(3_600_000),
  /** rows (or jobs) removed per retention batch; each batch is its own short transaction */
  RETENTION_BATCH_SIZE: positiveInt.default(500),
  /** pause between retention batches, so pruning never crowds out live traffic */
  RETENTION_BATCH_PAUSE_MS: z.coerce.number().int().min(0).default(50),
  /** how often one worker (under a Postgres lease) records the gateway's balance; its token route allows 20 reads per 20 min */
  GATEWAY_BALANCE_INTERVAL_MS: positiveInt.default(300_000),
  /** the closest two balance reads of one worker for estimated job costs may be (reads in between reuse the last) */
  GATEWAY_BALANCE_MIN_GAP_MS: z.coerce.number().int().min(0).default(60_000),
  /** a balance under this many US$ sends `gateway.balance_low` once per crossing; unset: no alert */
  GATEWAY_BALANCE_ALERT_USD: z.coerce.number().min(0).optional(),
  /** the gateway's prices (JSON: group_ratio, models, defaults) laid over the built-in catalog; see docs/settings.md */
  GATEWAY_PRICES: z.string().optional(),
  /** how long a worker's hold on an active job lasts without renewal; a dead worker's jobs move on after it */
  WORKER_LOCK_MS: positiveInt.default(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  UPSTREAM_CACHE_SEC: positiveInt.default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WORKER_QUEUES: z.string().optional(),
  /** task kinds (video, mj): first status poll after submit; intervals grow from here with jitter */
  TASK_POLL_MIN_MS: positiveInt.default(5_000),
  /** task kinds: the slowest poll cadence (the gateway itself refreshes every 15 s) */
  TASK_POLL_MAX_MS: positiveInt.default(15_000),
  /** ids per `list-by-condition` request of the MJ poll coordinator */
  MJ_POLL_BATCH: positiveInt.default(100),
  /** how long the MJ poll coordinator gathers waking jobs before one batched request */
  MJ_POLL_WINDOW_MS: positiveInt.default(25),
  /** task kinds: a submit call gives up after this; until then a `submitting` job is never submitted again */
  TASK_SUBMIT_TIMEOUT_MS: positiveInt.default(60_000),
  /** webhook retry delays in ms, comma separated (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); for tests */
  WEBHOOK_RETRY_SCHEDULE_MS: z.string().regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'comma-separated milliseconds').optional(),
  /** one webhook attempt, connect to last byte read */
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  /** webhook attempts in flight per worker process */
  WEBHOOK_CONCURRENCY: positiveInt.default(50),
  /** a job held back by its project's max_running_jobs is woken when a slot frees; this is the backstop */
  PROJECT_SLOT_RECHECK_MS: positiveInt.default(60_000),
  /** projects share each lane by `limits.weight` (a flood does not hold other projects' jobs behind it); false: FIFO within a priority */
  FAIR_SHARING: bool.default(true),
  /** SSE streams write a `: heartbeat` comment this often while no event flows */
  SSE_HEARTBEAT_MS: positiveInt.default(15_000),
  /** open SSE streams of one project in one API process; past it a new stream is a 429 */
  MAX_STREAMS_PER_PROJECT: positiveInt.default(50),
  /** open `?wait` long polls of one project in one API process; past it a 429 */
  MAX_WAITS_PER_PROJECT: positiveInt.default(200),
  /** open admin event streams (`/admin/v1/events`) in one API process */
  MAX_ADMIN_STREAMS: positiveInt.default(20),
  /** a bearer token that opens GET /metrics (and nothing else) for a scraper; unset: only the admin key does */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** requests per minute to /v1/artifacts/* from one client address (signed links need no key) */
  ARTIFACT_REQUESTS_PER_MINUTE: positiveInt.default(1_200),
  /** how long a dashboard sign-in (the admin session cookie) lasts */
  ADMIN_SESSION_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /** the built dashboard (index.html and assets/); unset: apps/dashboard/dist of the repository */
  DASHBOARD_DIR: z.string().optional(),
});

export type RawSettings = z.infer<typeof SettingsSchema>;

export type Settings = RawSettings & {
  publicBaseUrl: string;
  /** the origin of signed artifact links (ARTIFACT_BASE_URL, else the public base URL) */
  artifactBaseUrl: string;
  /** the gateway, or the built-in simulator when none is configured */
  upstreamBaseUrl: string;
  /** the simulator accepts any `sk-` key, so a placeholder stands in when none is set */
  upstreamApiKey: string;
  allowPrivateUrls: boolean;
  /** the worker's HTTP port (WORKER_HTTP_PORT, else PORT + 1); 0: none */
  workerHttpPort: number;
  lanes: Record<LaneName, LaneLimits>;
  maxJsonBytes: number;
  uploadLimitBytes: Record<'audio' | 'image' | 'batch', number>;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const MB = 1024 * 1024;

function laneLimits(env: Record<string, string | undefined>): Record<LaneName, LaneLimits> {
  const out = {} as Record<LaneName, LaneLimits>;
  for (const lane of LANE_NAMES) {
    const key = lane.toUpperCase();
    const concurrency = positiveInt.default(LANE_DEFAULTS[lane].concurrency).safeParse(env[`LANE_${key}_CONCURRENCY`]);
    const rpm = positiveInt.default(LANE_DEFAULTS[lane].requestsPerMinute).safeParse(env[`LANE_${key}_RPM`]);
    const pollRpm = positiveInt.optional().safeParse(env[`LANE_${key}_POLL_RPM`]);
    if (!concurrency.success || !rpm.success || !pollRpm.success) {
      throw new ConfigError(`LANE_${key}_CONCURRENCY, LANE_${key}_RPM and LANE_${key}_POLL_RPM must be positive integers`);
    }
    out[lane] = { concurrency: concurrency.data, requestsPerMinute: rpm.data, pollRequestsPerMinute: pollRpm.data ?? LANE_DEFAULTS[lane].pollRequestsPerMinute };
  }
  return out;
}

/** Parses settings once per process from an env-like record; every value has a working default. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = SettingsSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`Invalid settings:\n${z.prettifyError(parsed.error)}`);
  }
  const raw = parsed.data;
  if (raw.STORAGE_DRIVER === 's3' && !raw.S3_BUCKET) throw new ConfigError('Invalid settings: STORAGE_DRIVER=s3 needs S3_BUCKET');
  if (raw.STORAGE_PUBLIC_LINKS === 'presigned' && raw.STORAGE_DRIVER !== 's3') {
    throw new ConfigError('Invalid settings: STORAGE_PUBLIC_LINKS=presigned needs STORAGE_DRIVER=s3');
  }
  if ((raw.S3_ACCESS_KEY_ID === undefined) !== (raw.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('Invalid settings: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together');
  }
  const publicBaseUrl = (raw.PUBLIC_BASE_URL ?? `http://127.0.0.1:${raw.PORT}`).replace(/\/+$/, '');
  return {
    ...raw,
    publicBaseUrl,
    artifactBaseUrl: (raw.ARTIFACT_BASE_URL ?? publicBaseUrl).replace(/\/+$/, ''),
    upstreamBaseUrl: (raw.UPSTREAM_BASE_URL ?? `http://127.0.0.1:${raw.SIMULATOR_PORT}`).replace(/\/+$/, ''),
    upstreamApiKey: raw.UPSTREAM_API_KEY ?? 'sk-genqueue-local',
    // Tenant URLs (webhooks, media inputs, links in model output) may never reach private addresses
    // unless the operator says so; the simulator-based dev start and the tests say so for themselves.
    allowPrivateUrls: raw.ALLOW_PRIVATE_URLS ?? false,
    // next to the API's port by default; an API on an OS-chosen port (0) gives the worker none
    workerHttpPort: raw.WORKER_HTTP_PORT ?? (raw.PORT === 0 || raw.PORT === 65_535 ? 0 : raw.PORT + 1),
    lanes: laneLimits(cleaned),
    maxJsonBytes: Math.floor(raw.MAX_JSON_MB * MB),
    uploadLimitBytes: {
      audio: Math.floor(raw.UPLOAD_LIMIT_AUDIO_MB * MB),
      image: Math.floor(raw.UPLOAD_LIMIT_IMAGE_MB * MB),
      batch: Math.floor(raw.UPLOAD_LIMIT_BATCH_MB * MB),
    },
  };
}

/**
 * The most requests per minute a gateway lane may send (the gate's lanes of @genqueue/upstream:
 * `image`, `video_submit`, `video_poll`, `mj_submit`, `mj_poll`, `audio`, `embedding`).
 */
export function gatewayLaneMaxPerMinute(lanes: Record<LaneName, LaneLimits>, gatewayLane: string): number {
  const [family, part] = gatewayLane.split('_') as [string, string | undefined];
  const limits = (lanes as Record<string, LaneLimits | undefined>)[family];
  if (!limits) return 60;
  return part === 'poll' ? limits.pollRequestsPerMinute || limits.requestsPerMinute : limits.requestsPerMinute;
}
