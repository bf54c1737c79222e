import { firstPollAtOrAfter, lastPollBetween, nthPollAfter, pollsBetween } from './schedule';
import type { VideoTask } from './task-store';

/** new-api's internal `tasks.status` (§8.6). */
export type VideoInternalStatus = 'NOT_START' | 'QUEUED' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILURE';

export type VideoError = { code: string; message: string };

/** What the gateway knows about a video task at one moment. */
export type VideoView = {
  /** Gateway polls since submit. */
  polls: number;
  lastPollMs: number | null;
  internal: VideoInternalStatus;
  /** Internal progress: 0, 20, 30–99, 100. */
  progress: number;
  failReason: string;
  /** The last raw upstream (sora) object's fields. */
  raw: { status: string; progress: number; error: VideoError | null; completedAtMs: number | null; expiresAtMs: number | null };
  startMs: number | null;
  finishMs: number | null;
  isTimedOut: boolean;
  /** `/content` works until then (success only). */
  contentExpiresAtMs: number | null;
  /** When the task will be terminal, if it ever will (for tests and `/_sim/tasks`). */
  terminalAtMs: number | null;
};

export const UNRECOGNIZED_MESSAGE = 'upstream returned unrecognized message';
export const videoTimeoutReason = (minutes: number): string => `任务超时（${minutes}分钟）`;

const FAILURES: Record<string, VideoError> = {
  failed: { code: 'internal_error', message: 'Video generation failed due to an internal error. Please try again.' },
  moderation: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' },
};

/** Upstream progress while running: monotone, 30–99 (stalled tasks stop at 50). */
function runningProgress(task: VideoTask, elapsedMs: number): number {
  const pct = task.durationMs > 0 ? Math.floor((100 * elapsedMs) / task.durationMs) : 99;
  return Math.min(task.outcome === 'stall' ? 50 : 99, Math.max(30, pct));
}

/** The poll at which the upstream outcome becomes visible, or null for a task that never ends upstream. */
function outcomePoll(task: VideoTask): number | null {
  const S = task.submittedAtMs;
  switch (task.outcome) {
    case 'stall':
      return null;
    case 'success':
    case 'expired':
      return firstPollAtOrAfter(task.grid, S, S + task.durationMs, 2).atMs;
    default:
      return firstPollAtOrAfter(task.grid, S, S + task.durationMs / 2, 2).atMs;
  }
}

export function observeVideo(task: VideoTask, nowMs: number, timeoutMinutes: number): VideoView {
  const S = task.submittedAtMs;
  const polls = pollsBetween(task.grid, S, nowMs);
  const lastPollMs = lastPollBetween(task.grid, S, nowMs);
  const endPoll = outcomePoll(task);
  const timeoutPoll = task.timeoutMs > 0 ? firstPollAtOrAfter(task.grid, S, S + task.timeoutMs, 1).atMs : null;
  const isTimeoutFirst = timeoutPoll !== null && (endPoll === null || timeoutPoll <= endPoll);
  const terminalAtMs = isTimeoutFirst ? timeoutPoll : endPoll;
  const startMs = polls >= 2 ? nthPollAfter(task.grid, S, 2) : null;

  const view: VideoView = {
    polls,
    lastPollMs,
    internal: 'NOT_START',
    progress: 0,
    failReason: '',
    raw: { status: 'queued', progress: 0, error: null, completedAtMs: null, expiresAtMs: null },
    startMs,
    finishMs: null,
    isTimedOut: false,
    contentExpiresAtMs: null,
    terminalAtMs,
  };
  if (lastPollMs === null) return view;

  if (terminalAtMs !== null && lastPollMs >= terminalAtMs) {
    view.finishMs = terminalAtMs;
    view.internal = 'FAILURE';
    view.progress = 100;
    if (isTimeoutFirst) {
      view.isTimedOut = true;
      view.failReason = videoTimeoutReason(timeoutMinutes);
      const lastRunning = runningProgress(task, terminalAtMs - S);
      view.raw = task.isStaleAfterTimeout
        ? { status: 'in_progress', progress: lastRunning, error: null, completedAtMs: null, expiresAtMs: null }
        : { status: 'failed', progress: lastRunning, error: { code: '', message: view.failReason }, completedAtMs: null, expiresAtMs: null };
      return view;
    }
    switch (task.outcome) {
      case 'success': {
        const completedAtMs = S + task.durationMs;
        view.internal = 'SUCCESS';
        view.contentExpiresAtMs = completedAtMs + task.contentTtlMs;
        view.raw = { status: 'completed', progress: 100, error: null, completedAtMs, expiresAtMs: view.contentExpiresAtMs };
        return view;
      }
      case 'expired':
        view.failReason = UNRECOGNIZED_MESSAGE;
        view.raw = { status: 'expired', progress: 100, error: null, completedAtMs: null, expiresAtMs: null };
        return view;
      case 'cancelled':
        view.failReason = 'task failed';
        view.raw = { status: 'cancelled', progress: runningProgress(task, task.durationMs / 2), error: null, completedAtMs: null, expiresAtMs: null };
        return view;
      default: {
        const error = FAILURES[task.outcome === 'moderation' ? 'moderation' : 'failed'] as VideoError;
        view.failReason = error.message;
        view.raw = { status: 'failed', progress: runningProgress(task, task.durationMs / 2), error, completedAtMs: null, expiresAtMs: null };
        return view;
      }
    }
  }
  if (polls === 1) {
    view.internal = 'QUEUED';
    view.progress = 20;
    return view;
  }
  const progress = runningProgress(task, lastPollMs - S);
  view.internal = 'IN_PROGRESS';
  view.progress = progress;
  view.raw = { status: 'in_progress', progress, error: null, completedAtMs: null, expiresAtMs: null };
  return view;
}

const sec = (ms: number): number => Math.floor(ms / 1000);

/** `POST /v1/videos` answer: the upstream object re-serialised with the public id in `id` and `task_id`. */
export function videoSubmitBody(task: VideoTask): Record<string, unknown> {
  const base = { id: task.id, task_id: task.id, object: 'video', model: task.model, status: 'queued', progress: 0, created_at: task.createdAt };
  return task.isSora ? { ...base, seconds: task.seconds, size: task.size } : base;
}

/** Sora channel GET: the last raw upstream body with nulls and no URL (§8.2). */
export function soraVideoBody(task: VideoTask, view: VideoView): Record<string, unknown> {
  return {
    id: task.id,
    object: 'video',
    created_at: task.createdAt,
    status: view.raw.status,
    completed_at: view.raw.completedAtMs === null ? null : sec(view.raw.completedAtMs),
    error: view.raw.error,
    expires_at: view.raw.expiresAtMs === null ? null : sec(view.raw.expiresAtMs),
    model: task.model,
    progress: view.raw.progress,
    prompt: task.prompt,
    remixed_from_video_id: task.remixedFromId ?? null,
    seconds: task.seconds,
    size: task.size,
  };
}

const OPENAI_STATUS: Record<VideoInternalStatus, string> = {
  NOT_START: 'unknown',
  QUEUED: 'queued',
  IN_PROGRESS: 'in_progress',
  SUCCESS: 'completed',
  FAILURE: 'failed',
};

/** Other channels: the gateway-made `OpenAIVideo` with `metadata.url` and a spurious `completed_at`. */
export function gatewayVideoBody(task: VideoTask, view: VideoView, baseUrl: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: task.id,
    task_id: task.id,
    object: 'video',
    model: task.model,
    status: OPENAI_STATUS[view.internal],
    progress: view.progress,
    created_at: task.createdAt,
    // updated_at, even while the task is not complete (doubao, hailuo, kling).
    completed_at: sec(view.lastPollMs ?? task.submittedAtMs),
    metadata: { url: view.internal === 'SUCCESS' ? videoContentUrl(baseUrl, task.id) : '' },
  };
  if (view.internal === 'FAILURE') body['error'] = { message: view.failReason, code: '' };
  return body;
}

export const videoContentUrl = (baseUrl: string, id: string): string => `${baseUrl}/v1/videos/${id}/content`;

/** new-api's own task API: `{code:"success", data: TaskDto}` with string progress (§8.5). */
export function videoTaskDtoBody(task: VideoTask, view: VideoView, baseUrl: string): Record<string, unknown> {
  const raw = task.isSora ? soraVideoBody(task, view) : { id: task.id, status: OPENAI_STATUS[view.internal], progress: view.progress };
  const data: Record<string, unknown> = {
    id: task.seq,
    created_at: sec(task.submittedAtMs),
    updated_at: sec(view.lastPollMs ?? task.submittedAtMs),
    task_id: task.id,
    platform: task.isSora ? '55' : '24',
    user_id: 1,
    group: 'default',
    channel_id: 1,
    quota: task.costQuota,
    action: task.action,
    status: view.internal,
    fail_reason: view.failReason,
    submit_time: sec(task.submittedAtMs),
    start_time: view.startMs === null ? 0 : sec(view.startMs),
    finish_time: view.finishMs === null ? 0 : sec(view.finishMs),
    progress: `${view.progress}%`,
    properties: { input: '', upstream_model_name: task.model, origin_model_name: task.model },
    data: raw,
  };
  if (view.internal === 'SUCCESS') data['result_url'] = videoContentUrl(baseUrl, task.id);
  return { code: 'success', message: '', data };
}

/** Seed of the mp4 a video task renders. WARNING: other packages may recompute expected hashes from it. */
export const videoSeed = (model: string, prompt: string, seconds: string, size: string, inputSha256s: readonly string[]): string =>
  `video|${model}|${prompt}|${seconds}|${size}|${inputSha256s.join(',')}`;
