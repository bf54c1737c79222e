/** Wire shapes of docs/admin-api.md and api.md (snake_case, as the API sends them). */

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: readonly string[] = ['succeeded', 'failed', 'canceled', 'expired'];
export const isFinal = (status: string): boolean => FINAL_STATUSES.includes(status);

export const JOB_TYPES = [
  'image.generate',
  'image.edit',
  'image.gemini',
  'media.chat',
  'video.generate',
  'video.remix',
  'mj.imagine',
  'mj.action',
  'mj.modal',
  'mj.blend',
  'mj.describe',
  'audio.transcribe',
  'audio.translate',
  'audio.speech',
  'audio.gemini_speech',
  'embedding.batch',
] as const;

export type JobError = { code: string; message: string; retryable?: boolean };

export type Artifact = {
  id: string;
  object: 'artifact';
  kind: string;
  content_type: string;
  bytes: number;
  sha256: string;
  url?: string;
};

export type Job = {
  id: string;
  object: 'job';
  type: string;
  status: string;
  progress: number;
  input: unknown;
  output: unknown;
  error: JobError | null;
  artifacts: Artifact[];
  metadata: Record<string, unknown> | null;
  webhook_url: string | null;
  webhook_events?: string[];
  priority?: number;
  attempts: number;
  upstream: { task_id: string | null; status: string | null };
  parent_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  project_id?: string;
  project_name?: string;
  upstream_state?: unknown;
};

export type JobEvent = {
  id: string;
  object: 'event';
  type: string;
  job_id: string;
  seq: number;
  created_at: string;
  data: Job;
  project_id?: string;
};

export type JobAttempt = { attempt: number; outcome: string; error: JobError | null; at: string };

export type ListPage<T> = { object?: 'list'; data: T[]; next_cursor?: string | null };

export type BulkAction = {
  object: 'bulk_action';
  id: string;
  action: string;
  status: 'running' | 'done' | string;
  matched: number;
  processed: number;
  changed: number;
  skipped: number;
};

export type QueueStats = {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  paused: boolean;
  rate_limited_ms: number;
  last_active_at: string | null;
  idle_warning: boolean;
  /** what holds the family's gateway lanes: a 429, an outage, a refused key or quota */
  held_reason?: 'rate' | 'rate_limited' | 'outage' | 'refused' | null;
  held_until?: string | null;
};

export type WindowStats = {
  finished: number;
  by_status: Record<string, number>;
  throughput_per_min: number;
  failure_rate: number;
};

export type SeriesPoint = { start: string; finished: number; failed: number };

export type Stats = {
  object: 'stats';
  jobs_by_status: Record<string, number>;
  jobs_by_type: Record<string, number>;
  jobs_by_type_and_status?: Record<string, Record<string, number>>;
  queues: Record<string, QueueStats> | null;
  last_hour: WindowStats;
  last_day?: WindowStats;
  series?: { hour: SeriesPoint[]; day: SeriesPoint[] };
  webhooks?: { pending: number; failing: number; succeeded_24h: number; failed_24h: number };
  generated_at?: string;
};

export type UpstreamModel = { id: string; owned_by?: string; endpoint_types?: string[] };
export type Upstream = {
  object: 'upstream';
  base_url: string;
  fetched_at: string;
  balance: {
    source: string;
    total_granted?: number;
    total_used?: number;
    total_available?: number;
    unlimited?: boolean;
    expires_at?: string | null;
    usd?: { hard_limit: number; used: number; remaining: number };
  } | null;
  balance_error: { message: string } | null;
  models: UpstreamModel[];
  models_error: { message: string } | null;
  cached?: boolean;
};

export type ProjectLimits = { requests_per_minute?: number | null; jobs_per_minute?: number | null; max_running_jobs?: number | null };
export type Project = {
  id: string;
  object: 'project';
  name: string;
  limits: ProjectLimits | null;
  created_at: string;
  counts?: Record<string, number>;
};

export type ApiKey = {
  id: string;
  object: 'api_key';
  name: string | null;
  prefix: string;
  created_at: string;
  last_used_at?: string | null;
  revoked_at?: string | null;
  project_id?: string;
  /** only in the answer that created it */
  key?: string;
};

export type WebhookEndpoint = {
  id: string;
  object: 'webhook_endpoint';
  project_id?: string;
  url: string;
  description: string | null;
  event_types: string[];
  status?: string;
  disabled_at: string | null;
  disabled_reason: string | null;
  failing_since?: string | null;
  created_at: string;
};

export type DeliveryAttempt = {
  at: string;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  response_body?: string | null;
};

export type WebhookDelivery = {
  id: string;
  object: 'webhook_delivery';
  webhook_id: string;
  event_type: string;
  event_id?: string;
  job_id: string;
  endpoint_id: string | null;
  url: string;
  status: 'pending' | 'succeeded' | 'failed' | string;
  next_attempt_at?: string | null;
  created_at?: string;
  project_id?: string;
  attempts: DeliveryAttempt[];
};

export type Session = { object: 'admin_session'; expires_at: string; csrf_token: string };
