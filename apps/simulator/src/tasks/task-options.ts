/**
 * Options of the long-running task families (video §8, Midjourney §9). All durations are
 * *simulated* milliseconds: fast-time mode divides them by `timeFactor` when a task is submitted.
 */
export type TaskOptions = {
  /** The gateway's poll cycle (`TaskPollingLoop` / `UpdateMidjourneyTaskBulk` sleep 15 s). */
  pollTickMs?: number;
  /** Per-task spacing inside a cycle (new-api sleeps 1 s between video tasks); wraps within one tick. 0 = every task at the tick. */
  pollSpacingMs?: number;
  /** Upstream time from submit to a finished video. */
  videoDurationMs?: number;
  /** Upstream time from submit (or modal submit) to a finished MJ task. */
  mjDurationMs?: number;
  /** `task`: `task_` + 32 alphanumerics (new-api ≥ 2026-02); `upstream`: the upstream id `video_` + 32 hex (older builds). */
  videoIdStyle?: 'task' | 'upstream';
  /** Unit of the video `created_at` (sora: seconds; Kling-backed tasks and NA-doc: milliseconds). */
  videoCreatedAtUnit?: 's' | 'ms';
  /** The first N status GETs of a fresh video answer 400 `task_not_exist` (insert lag). */
  videoInsertLagRequests?: number;
  /** `TASK_TIMEOUT_MINUTES` (1440): the gateway's sweep fails unfinished video tasks after this. */
  videoTimeoutMinutes?: number;
  /** Sora content lifetime after completion (`expires_at`); `/content` answers 502 afterwards. */
  videoContentTtlSec?: number;
  /** After the gateway's timeout, a sora GET keeps showing the last raw upstream status (§12.1 quirk). */
  soraStaleAfterTimeout?: boolean;
  /** Quota units charged per second of video (refunded when the task fails). */
  videoCostQuotaPerSecond?: number;
  /** The gateway's MJ timeout (1 h from submitTime). */
  mjTimeoutMs?: number;
  /** Lifetime of MJ image URLs after the task finished (Discord CDN links expire). */
  mjImageTtlSec?: number;
  /** `true`: TAI-style `buttons` arrays; `false`: `buttons: null` (novicezk/midjourney-proxy). */
  mjButtons?: boolean;
  /** Quota units charged per MJ submit accepted with code 1/21/22 (INPAINT/CUSTOM_ZOOM are free; modal is charged). */
  mjCostQuota?: number;
};

export type ResolvedTaskOptions = Required<TaskOptions>;

export const DEFAULT_TASK_OPTIONS: Readonly<ResolvedTaskOptions> = {
  pollTickMs: 15_000,
  pollSpacingMs: 0,
  videoDurationMs: 90_000,
  mjDurationMs: 45_000,
  videoIdStyle: 'task',
  videoCreatedAtUnit: 's',
  videoInsertLagRequests: 0,
  videoTimeoutMinutes: 1440,
  videoContentTtlSec: 86_400,
  soraStaleAfterTimeout: false,
  videoCostQuotaPerSecond: 50_000,
  mjTimeoutMs: 3_600_000,
  mjImageTtlSec: 86_400,
  mjButtons: true,
  mjCostQuota: 25_000,
};

export function resolveTaskOptions(options: TaskOptions = {}): ResolvedTaskOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TaskOptions;
  const resolved: ResolvedTaskOptions = { ...DEFAULT_TASK_OPTIONS, ...defined };
  const problem = checkTaskOptions(resolved);
  if (problem) throw new Error(problem);
  return resolved;
}

/** A problem text, or null when the options are usable. */
export function checkTaskOptions(o: ResolvedTaskOptions): string | null {
  if (!(o.pollTickMs > 0)) return 'pollTickMs must be > 0';
  const nonNegative: Array<keyof ResolvedTaskOptions> = [
    'pollSpacingMs',
    'videoDurationMs',
    'mjDurationMs',
    'videoInsertLagRequests',
    'videoTimeoutMinutes',
    'videoContentTtlSec',
    'videoCostQuotaPerSecond',
    'mjTimeoutMs',
    'mjImageTtlSec',
    'mjCostQuota',
  ];
  for (const key of nonNegative) {
    const value = o[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${key} must be a number >= 0`;
  }
  if (o.videoIdStyle !== 'task' && o.videoIdStyle !== 'upstream') return "videoIdStyle must be 'task' or 'upstream'";
  if (o.videoCreatedAtUnit !== 's' && o.videoCreatedAtUnit !== 'ms') return "videoCreatedAtUnit must be 's' or 'ms'";
  return null;
}

/** snake_case wire names used by `/_sim/tasks/config`. */
export const TASK_OPTION_WIRE_NAMES: Readonly<Record<keyof ResolvedTaskOptions, string>> = {
  pollTickMs: 'poll_tick_ms',
  pollSpacingMs: 'poll_spacing_ms',
  videoDurationMs: 'video_duration_ms',
  mjDurationMs: 'mj_duration_ms',
  videoIdStyle: 'video_id_style',
  videoCreatedAtUnit: 'video_created_at_unit',
  videoInsertLagRequests: 'video_insert_lag_requests',
  videoTimeoutMinutes: 'video_timeout_minutes',
  videoContentTtlSec: 'video_content_ttl_sec',
  soraStaleAfterTimeout: 'sora_stale_after_timeout',
  videoCostQuotaPerSecond: 'video_cost_quota_per_second',
  mjTimeoutMs: 'mj_timeout_ms',
  mjImageTtlSec: 'mj_image_ttl_sec',
  mjButtons: 'mj_buttons',
  mjCostQuota: 'mj_cost_quota',
};

export const presentTaskOptions = (o: ResolvedTaskOptions): Record<string, unknown> =>
  Object.fromEntries(Object.entries(TASK_OPTION_WIRE_NAMES).map(([key, wire]) => [wire, o[key as keyof ResolvedTaskOptions]]));

/** Applies a snake_case patch in place; returns a problem text (nothing applied) or null. */
export function patchTaskOptions(target: ResolvedTaskOptions, patch: Record<string, unknown>): string | null {
  const next: ResolvedTaskOptions = { ...target };
  const byWire = new Map(Object.entries(TASK_OPTION_WIRE_NAMES).map(([key, wire]) => [wire, key as keyof ResolvedTaskOptions]));
  for (const [wire, value] of Object.entries(patch)) {
    const key = byWire.get(wire);
    if (key === undefined) return `unknown task option: ${wire}`;
    if (typeof value !== typeof DEFAULT_TASK_OPTIONS[key]) return `${wire} must be a ${typeof DEFAULT_TASK_OPTIONS[key]}`;
    (next as Record<string, unknown>)[key] = value;
  }
  const problem = checkTaskOptions(next);
  if (problem) return problem;
  Object.assign(target, next);
  return null;
}
