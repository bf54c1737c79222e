import { Blob } from 'node:buffer';
import { FormData } from 'undici';
import { codeToString, UpstreamError } from './errors';
import { download, downloadStream, type DownloadOptions, type DownloadResult, type DownloadStream } from './download';
import type { CallOptions, UpstreamHttp } from './http';
import { asRecord, asText, type JsonRecord } from './lenient';
import { parseJsonResponse } from './response';
import {
  DEFAULT_TASK_TIMEOUTS,
  isGatewayTimeoutText,
  parseProgress,
  timestampToDate,
  withKind,
  withTimeout,
  type TaskTimeouts,
} from './task-common';

/**
 * Sora-format videos (docs/gateway.md §8): `POST /v1/videos`, `POST /v1/videos/{id}/remix`,
 * `GET /v1/videos/{id}` in every shape the gateway produces, and `GET /v1/videos/{id}/content`.
 */

export interface VideoInputReference {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface VideoCreateRequest {
  model: string;
  prompt: string;
  /** `"4"`, `"8"`, `"12"` for sora (default 4); sent as a string. */
  seconds?: string | number;
  /** e.g. `720x1280`; sora-2 takes `720x1280`/`1280x720`, sora-2-pro also `1792x1024`/`1024x1792`. */
  size?: string;
  /** A file makes the request multipart (`input_reference` part); a string (URL or data URL) is sent in JSON. */
  inputReference?: VideoInputReference | string;
  /** Other fields; the named ones win. */
  extra?: Record<string, string | number | boolean>;
}

/** Every gateway status folded into three; anything else is `pending` with `isKnownStatus: false`. */
export type VideoStatus = 'pending' | 'succeeded' | 'failed';

export interface VideoSubmitResult {
  /** The gateway's public id (`task_…`, or `video_…` on older builds): persist it before anything else. */
  id: string;
  status: VideoStatus;
  rawStatus: string;
  progress: number;
  createdAt?: Date;
  /** `X-New-Api-Other-Ratios` (`{"seconds":8,"size":1}`): what the gateway billed. */
  otherRatios?: Record<string, number>;
  requestId?: string;
  raw: unknown;
}

export interface VideoTaskError {
  code?: string;
  message: string;
  /** The gateway's own timeout (`任务超时（1440分钟）`). */
  isTimeout: boolean;
}

export interface VideoTask {
  id: string;
  status: VideoStatus;
  /** The status string as the gateway sent it (`unknown`, `in_progress`, `NOT_START`, `expired`, …). */
  rawStatus: string;
  /** False for a status string this client does not know; such tasks stay `pending`. */
  isKnownStatus: boolean;
  /** 0–100; 100 once succeeded. */
  progress: number;
  /** Result URL (`metadata.url`, `result_url`, `url`) when the gateway gives one; otherwise download by id. */
  url?: string;
  /** Set when `status` is `failed`. */
  error?: VideoTaskError;
  /** `created_at` in seconds or milliseconds, or `submit_time`. */
  createdAt?: Date;
  /** Only when succeeded: some channels fill `completed_at` while running. */
  completedAt?: Date;
  /** When the upstream content expires (sora `expires_at`). */
  expiresAt?: Date;
  model?: string;
  seconds?: string;
  size?: string;
  requestId?: string;
  raw: unknown;
}

export interface VideosApi {
  /** One submit; never retried here. Throws UpstreamError (E1/E3/E2 shapes, classified). */
  create(request: VideoCreateRequest, options?: CallOptions): Promise<VideoSubmitResult>;
  /**
   * `POST /v1/videos/{id}/remix` (§8.4): a new task from a finished one, on its channel, model,
   * seconds and size; billed and answered like `create`. Never retried here. An unknown id is
   * `not_found` (400 `task_not_exist`).
   */
  remix(id: string, request: { prompt: string }, options?: CallOptions): Promise<VideoSubmitResult>;
  /** `GET /v1/videos/{id}`. Unknown ids are `not_found` (400 `task_not_exist`; may be insert lag right after submit). */
  get(id: string, options?: CallOptions): Promise<VideoTask>;
  /**
   * The video bytes: an id goes through `GET /v1/videos/{id}/content`, a URL (`metadata.url`,
   * `data:`) is fetched directly. An expired upstream asset (502 "Upstream service returned
   * status 403") is `not_found`; a task that is not finished is `rejected`.
   */
  download(idOrUrl: string, options?: DownloadOptions): Promise<DownloadResult>;
  /** As `download`, the body handed over as it arrives (the worker streams it to storage). */
  downloadStream(idOrUrl: string, options?: DownloadOptions): Promise<DownloadStream>;
}

export interface VideosApiOptions {
  timeouts?: Partial<TaskTimeouts>;
  /** Default URL guard for downloads of result URLs. */
  assertUrlAllowed?: (url: URL) => Promise<void>;
}

export function createVideosApi(http: UpstreamHttp, apiOptions: VideosApiOptions = {}): VideosApi {
  const timeouts = { ...DEFAULT_TASK_TIMEOUTS, ...apiOptions.timeouts };
  const contentRequest = (idOrUrl: string, options: DownloadOptions): { url: string; opts: DownloadOptions } => {
    const guard = options.assertUrlAllowed ?? apiOptions.assertUrlAllowed;
    const isUrl = /^(https?:|data:)/i.test(idOrUrl);
    return {
      url: isUrl ? idOrUrl : http.resolveUrl(`/v1/videos/${encodeURIComponent(idOrUrl)}/content`).href,
      opts: { ...options, ...(guard !== undefined ? { assertUrlAllowed: guard } : {}) },
    };
  };
  return {
    async create(request, options = {}) {
      const call = { ...withTimeout(options, timeouts.submitMs), method: 'POST' as const, path: '/v1/videos', profile: 'long' as const };
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.extra ?? {})) fields[name] = String(value);
      fields['model'] = request.model;
      fields['prompt'] = request.prompt;
      if (request.seconds !== undefined) fields['seconds'] = String(request.seconds);
      if (request.size !== undefined) fields['size'] = request.size;
      const reference = request.inputReference;
      let res;
      if (reference !== undefined && typeof reference !== 'string') {
        const form = new FormData();
        for (const [name, value] of Object.entries(fields)) form.append(name, value);
        form.append('input_reference', new Blob([reference.data], { type: reference.contentType }), reference.filename);
        res = await http.request({ ...call, form });
      } else {
        res = await http.request({ ...call, json: reference === undefined ? fields : { ...fields, input_reference: reference } });
      }
      const json = parseJsonResponse(res, 'videos.create');
      return parseVideoSubmit(json, res.headers['x-new-api-other-ratios'], res.status, res.requestId);
    },

    async remix(id, request, options = {}) {
      const res = await http.request({
        ...withTimeout(options, timeouts.submitMs),
        method: 'POST',
        path: `/v1/videos/${encodeURIComponent(id)}/remix`,
        profile: 'long',
        json: { prompt: request.prompt },
      });
      const json = parseJsonResponse(res, 'videos.remix');
      return parseVideoSubmit(json, res.headers['x-new-api-other-ratios'], res.status, res.requestId, 'videos.remix');
    },

    async get(id, options = {}) {
      const res = await http.request({
        ...withTimeout(options, timeouts.pollMs),
        method: 'GET',
        path: `/v1/videos/${encodeURIComponent(id)}`,
        profile: 'small',
      });
      const task = parseVideoTask(parseJsonResponse(res, 'videos.get'), id);
      if (res.requestId !== undefined) task.requestId = res.requestId;
      return task;
    },

    async download(idOrUrl, options = {}) {
      const { url, opts } = contentRequest(idOrUrl, options);
      try {
        return await download(http, url, opts);
      } catch (err) {
        throw expiredContent(err);
      }
    },

    async downloadStream(idOrUrl, options = {}) {
      const { url, opts } = contentRequest(idOrUrl, options);
      try {
        return await downloadStream(http, url, opts);
      } catch (err) {
        throw expiredContent(err);
      }
    },
  };
}

/** An expired upstream asset (502 "Upstream service returned status 403") is `not_found`. */
function expiredContent(err: unknown): unknown {
  if (err instanceof UpstreamError && err.httpStatus === 502 && /returned status (401|403|404|410)\b/.test(err.upstreamMessage ?? '')) {
    return withKind(err, 'not_found', `video content expired upstream (${err.upstreamMessage ?? 'HTTP 502'})`);
  }
  return err;
}

const PENDING = new Set(['', 'unknown', 'not_start', 'submitted', 'queued', 'in_progress', 'processing', 'pending', 'running', 'modal']);
const SUCCEEDED = new Set(['completed', 'succeeded', 'success', 'succeed']);
const FAILED = new Set(['failed', 'failure', 'cancelled', 'canceled', 'cancel', 'expired']);

/** Folds any status vocabulary of §8.6 / §12.3 (OpenAI, internal, Kling, Gemini) into three. */
export function normalizeVideoStatus(rawStatus: string): { status: VideoStatus; isKnownStatus: boolean } {
  const key = rawStatus.trim().toLowerCase();
  if (SUCCEEDED.has(key)) return { status: 'succeeded', isKnownStatus: true };
  if (FAILED.has(key)) return { status: 'failed', isKnownStatus: true };
  return { status: 'pending', isKnownStatus: PENDING.has(key) };
}

const statusText = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));

function readOtherRatios(header: string | undefined): Record<string, number> | undefined {
  if (header === undefined) return undefined;
  try {
    const parsed = asRecord(JSON.parse(header));
    if (!parsed) return undefined;
    const ratios: Record<string, number> = {};
    for (const [name, value] of Object.entries(parsed)) if (typeof value === 'number' && Number.isFinite(value)) ratios[name] = value;
    return ratios;
  } catch {
    return undefined;
  }
}

/** Reads a `POST /v1/videos` (or `/remix`) answer. A 200 without an id is `rejected`: there is nothing to poll, and resubmitting may pay twice. */
export function parseVideoSubmit(json: unknown, otherRatiosHeader?: string, httpStatus = 200, requestId?: string, call = 'videos.create'): VideoSubmitResult {
  const body = asRecord(json) ?? {};
  const id = asText(body['id']) ?? asText(body['task_id']);
  if (id === undefined) {
    throw new UpstreamError({
      kind: 'rejected',
      httpStatus,
      ...(requestId !== undefined ? { requestId } : {}),
      message: `${call}: HTTP ${httpStatus} without a task id`,
    });
  }
  const rawStatus = statusText(body['status']);
  const { status } = normalizeVideoStatus(rawStatus);
  const result: VideoSubmitResult = { id, status, rawStatus, progress: parseProgress(body['progress']), raw: json };
  const createdAt = timestampToDate(body['created_at']);
  if (createdAt) result.createdAt = createdAt;
  const ratios = readOtherRatios(otherRatiosHeader);
  if (ratios) result.otherRatios = ratios;
  if (requestId !== undefined) result.requestId = requestId;
  return result;
}

/** new-api's `{code:"success", data:{…}}` wrappers (`/v1/video/generations/{id}`, Gemini realtime). */
function unwrap(body: JsonRecord): { record: JsonRecord; isWrapper: boolean } {
  const data = asRecord(body['data']);
  if (typeof body['code'] === 'string' && data && ('status' in data || 'task_id' in data)) return { record: data, isWrapper: true };
  return { record: body, isWrapper: false };
}

const httpUrl = (value: unknown): string | undefined => {
  const text = asText(value);
  return text !== undefined && /^(https?:|data:)/i.test(text.trim()) ? text.trim() : undefined;
};

/**
 * Reads a video status body in any shape: sora's raw object (nulls, no URL), the gateway-made
 * `OpenAIVideo` (`metadata.url`, `status:"unknown"`), the `{code:"success",data:TaskDto}` wrapper
 * (internal status, `"30%"` progress, `fail_reason`, `result_url`) and the Gemini realtime wrapper.
 */
export function parseVideoTask(json: unknown, requestedId?: string): VideoTask {
  const { record, isWrapper } = unwrap(asRecord(json) ?? {});
  const rawStatus = statusText(record['status']);
  const { status, isKnownStatus } = normalizeVideoStatus(rawStatus);
  const id = (isWrapper ? asText(record['task_id']) : asText(record['id'])) ?? asText(record['task_id']) ?? requestedId ?? '';
  const task: VideoTask = { id, status, rawStatus, isKnownStatus, progress: status === 'succeeded' ? 100 : parseProgress(record['progress']), raw: json };

  const url = httpUrl(asRecord(record['metadata'])?.['url']) ?? httpUrl(record['result_url']) ?? httpUrl(record['url']);
  if (url !== undefined) task.url = url;
  const createdAt = timestampToDate(record['created_at']) ?? timestampToDate(record['submit_time']);
  if (createdAt) task.createdAt = createdAt;
  if (status === 'succeeded') {
    const completedAt = timestampToDate(record['completed_at']) ?? timestampToDate(record['finish_time']);
    if (completedAt) task.completedAt = completedAt;
  }
  const expiresAt = timestampToDate(record['expires_at']);
  if (expiresAt) task.expiresAt = expiresAt;
  const model = asText(record['model']);
  if (model !== undefined) task.model = model;
  const seconds = asText(record['seconds']) ?? (typeof record['seconds'] === 'number' ? String(record['seconds']) : undefined);
  if (seconds !== undefined) task.seconds = seconds;
  const size = asText(record['size']);
  if (size !== undefined) task.size = size;
  if (status === 'failed') task.error = readVideoError(record, rawStatus);
  return task;
}

function readVideoError(record: JsonRecord, rawStatus: string): VideoTaskError {
  const error = asRecord(record['error']);
  const message =
    asText(error?.['message']) ??
    (typeof record['error'] === 'string' ? asText(record['error']) : undefined) ??
    asText(record['fail_reason']) ??
    fallbackMessage(rawStatus);
  const code = codeToString(error?.['code']);
  return { ...(code !== undefined ? { code } : {}), message, isTimeout: isGatewayTimeoutText(message) };
}

function fallbackMessage(rawStatus: string): string {
  const key = rawStatus.toLowerCase();
  if (key === 'expired') return 'the upstream reports the video as expired';
  if (key === 'cancelled' || key === 'canceled' || key === 'cancel') return 'the upstream cancelled the task';
  return 'task failed';
}
