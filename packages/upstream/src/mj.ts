import { UpstreamError } from './errors';
import { download, downloadStream, type DownloadOptions, type DownloadResult, type DownloadStream } from './download';
import { errorFromHttpResponse, type CallOptions, type HttpResponse, type UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, asText, type JsonRecord } from './lenient';
import { parseJsonResponse } from './response';
import { DEFAULT_TASK_TIMEOUTS, isGatewayTimeoutText, parseProgress, timestampToDate, withKind, withTimeout, type TaskTimeouts } from './task-common';

/**
 * Midjourney through new-api (docs/gateway.md §9): submit routes with the proxy's result codes,
 * `fetch`, batched `list-by-condition`, image-seed and the image proxy.
 */

export type MjSubmitKind = 'imagine' | 'action' | 'modal' | 'blend' | 'describe';
export type MjBotType = 'MID_JOURNEY' | 'NIJI_JOURNEY';
/** Images are `data:image/png;base64,…` strings (see `toDataUrl`). */
export type MjDataUrl = string;

export interface MjImagineBody {
  prompt: string;
  base64Array?: MjDataUrl[];
  botType?: MjBotType;
  /** Free text (≤ 255) the gateway stores and returns on fetch: a good place for a job id. */
  state?: string;
  extra?: Record<string, unknown>;
}
export interface MjActionBody {
  /** The parent task. */
  taskId: string;
  /** One of the parent's `buttons[].customId`. */
  customId: string;
  state?: string;
  /** TAI: ask for the remix window (VARIATION/PAN/REROLL); the task then waits in MODAL. */
  enableRemix?: boolean;
  extra?: Record<string, unknown>;
}
export interface MjModalBody {
  /** The task that is in MODAL (returned by the action). */
  taskId: string;
  prompt?: string;
  /** Vary (Region) / Inpaint mask. */
  maskBase64?: MjDataUrl;
  state?: string;
  extra?: Record<string, unknown>;
}
export interface MjBlendBody {
  /** 2 to 5 images. */
  base64Array: MjDataUrl[];
  dimensions?: 'PORTRAIT' | 'SQUARE' | 'LANDSCAPE';
  botType?: MjBotType;
  state?: string;
  extra?: Record<string, unknown>;
}
export interface MjDescribeBody {
  base64?: MjDataUrl;
  /** TAI: an image URL instead of `base64`. */
  link?: string;
  botType?: MjBotType;
  state?: string;
  extra?: Record<string, unknown>;
}
export interface MjSubmitBodies {
  imagine: MjImagineBody;
  action: MjActionBody;
  modal: MjModalBody;
  blend: MjBlendBody;
  describe: MjDescribeBody;
}

/**
 * `ok`: accepted (codes 1 and 22; also 21 rewritten by the gateway), `taskId` set.
 * `modal`: code 21 kept (INPAINT / CUSTOM_ZOOM): the task waits for `submit('modal', …)`.
 * `retry_later`: code 23, the proxy's queue is full; nothing was created or charged.
 */
export type MjSubmitOutcome = 'ok' | 'modal' | 'retry_later';

export interface MjSubmitResult {
  outcome: MjSubmitOutcome;
  code: number;
  taskId?: string;
  description: string;
  properties: Record<string, unknown>;
  requestId?: string;
  raw: unknown;
}

/** A submit the proxy refused with a business code (3, 4, 9, 24, …). `kind` is `rejected`. */
export class MjSubmitError extends UpstreamError {
  readonly mjCode: number;
  readonly description: string;
  /** Code 24: the word the proxy found (`properties.bannedWord`). */
  readonly bannedWord?: string;
  readonly promptEn?: string;
  readonly properties: Record<string, unknown>;

  constructor(init: { mjCode: number; description: string; properties: Record<string, unknown>; httpStatus: number; requestId?: string; kind?: UpstreamError['kind'] }) {
    const bannedWord = asText(init.properties['bannedWord']);
    const what = init.mjCode === 24 ? `banned prompt${bannedWord !== undefined ? ` (word "${bannedWord}")` : ''}` : `refused with code ${init.mjCode}`;
    super({
      kind: init.kind ?? 'rejected',
      httpStatus: init.httpStatus,
      upstreamCode: String(init.mjCode),
      ...(init.description !== '' ? { upstreamMessage: init.description } : {}),
      ...(init.requestId !== undefined ? { requestId: init.requestId } : {}),
      message: `mj.submit: ${what}${init.description !== '' ? `: ${init.description}` : ''}`,
    });
    this.mjCode = init.mjCode;
    this.description = init.description;
    this.properties = init.properties;
    if (bannedWord !== undefined) this.bannedWord = bannedWord;
    const promptEn = asText(init.properties['promptEn']);
    if (promptEn !== undefined) this.promptEn = promptEn;
  }
}

export type MjTaskStatus = 'pending' | 'modal' | 'succeeded' | 'failed';

export interface MjButton {
  customId: string;
  label: string;
  emoji: string;
  type?: number;
  style?: number;
}

export interface MjTask {
  id: string;
  /** `IMAGINE`, `UPSCALE`, `VARIATION`, `DESCRIBE`, … */
  action?: string;
  status: MjTaskStatus;
  /** `""`, `NOT_START`, `SUBMITTED`, `MODAL`, `IN_PROGRESS`, `SUCCESS`, `FAILURE`, `CANCEL`, … */
  rawStatus: string;
  isKnownStatus: boolean;
  /** 0–100, from `"45%"` or `""`; 100 once succeeded. */
  progress: number;
  /** The result (or, while running, a preview: `isPreviewImage`). Download it before it expires. */
  imageUrl?: string;
  isPreviewImage: boolean;
  failReason?: string;
  /** The gateway's 1 h timeout (`上游任务超时（超过1小时）`). */
  isTimeout: boolean;
  /** Empty when the proxy has none (`null`) or the task is not finished. */
  buttons: MjButton[];
  prompt?: string;
  promptEn?: string;
  /** DESCRIBE results: the prompts from `properties.finalPrompt` (or `promptEn`), numbering removed. */
  prompts?: string[];
  /** The frozen submit description. */
  description?: string;
  state?: string;
  submitTime?: Date;
  startTime?: Date;
  finishTime?: Date;
  raw: unknown;
}

export interface MjCallOptions extends CallOptions {
  /** Route prefix `/mj-fast`, `/mj-relax`, `/mj-turbo`; new-api ignores it, billing groups may not. */
  mode?: 'fast' | 'relax' | 'turbo';
}

export interface MjListOptions extends MjCallOptions {
  /** Ids per `list-by-condition` request (default 100); larger lists are split. */
  batchSize?: number;
}

export interface MjApi {
  /** One submit; never retried here. Business refusals throw `MjSubmitError`; gateway errors throw UpstreamError. */
  submit<K extends MjSubmitKind>(kind: K, body: MjSubmitBodies[K], options?: MjCallOptions): Promise<MjSubmitResult>;
  /** `GET /mj/task/{id}/fetch`; an unknown id (400 `task_no_found`) is `not_found`. */
  fetch(id: string, options?: MjCallOptions): Promise<MjTask>;
  /** `POST /mj/task/list-by-condition` in batches; ids the gateway does not return are simply absent. */
  listByCondition(ids: readonly string[], options?: MjListOptions): Promise<MjTask[]>;
  /** `GET /mj/task/{id}/image-seed` (finished tasks only). */
  imageSeed(id: string, options?: MjCallOptions): Promise<string>;
  /**
   * The image: an id goes through the gateway's `/mj/image/{id}` (robust to a wrong `ServerAddress`
   * in `imageUrl`), a URL is fetched as is. Expired images (403/404) are `not_found`.
   */
  downloadImage(idOrUrl: string, options?: DownloadOptions): Promise<DownloadResult>;
  /** As `downloadImage`, the body handed over as it arrives (the worker streams it to storage). */
  downloadImageStream(idOrUrl: string, options?: DownloadOptions): Promise<DownloadStream>;
}

export interface MjApiOptions {
  timeouts?: Partial<TaskTimeouts>;
  assertUrlAllowed?: (url: URL) => Promise<void>;
}

export const DEFAULT_MJ_LIST_BATCH = 100;

const prefixOf = (mode: MjCallOptions['mode']): string => (mode === undefined ? '' : `/mj-${mode}`);

function callOptions(options: MjCallOptions): CallOptions {
  const { mode: _mode, ...rest } = options as MjListOptions;
  delete (rest as MjListOptions).batchSize;
  return rest;
}

export function createMjApi(http: UpstreamHttp, apiOptions: MjApiOptions = {}): MjApi {
  const timeouts = { ...DEFAULT_TASK_TIMEOUTS, ...apiOptions.timeouts };
  const poll = (options: MjCallOptions) => ({ ...withTimeout(callOptions(options), timeouts.pollMs), profile: 'small' as const });
  const imageUrl = (idOrUrl: string): string => (/^(https?:|data:)/i.test(idOrUrl) ? idOrUrl : http.resolveUrl(`/mj/image/${encodeURIComponent(idOrUrl)}`).href);
  const withGuard = (options: DownloadOptions): DownloadOptions => {
    const guard = options.assertUrlAllowed ?? apiOptions.assertUrlAllowed;
    return { ...options, ...(guard !== undefined ? { assertUrlAllowed: guard } : {}) };
  };

  return {
    async submit(kind, body, options = {}) {
      const json = buildSubmitBody(kind, body);
      const res = await http.request({
        ...withTimeout(callOptions(options), timeouts.submitMs),
        method: 'POST',
        path: `${prefixOf(options.mode)}/mj/submit/${kind}`,
        json,
        profile: 'long',
      });
      try {
        return readSubmitResponse(res);
      } catch (err) {
        // the gateway's spent quota on MJ routes is an HTTP 400 (E5 `quota_not_enough`): hold the lane
        if (err instanceof UpstreamError && err.kind === 'auth') await http.reportRefusal(res, 'POST', err);
        throw err;
      }
    },

    async fetch(id, options = {}) {
      const res = await http.request({ ...poll(options), method: 'GET', path: `${prefixOf(options.mode)}/mj/task/${encodeURIComponent(id)}/fetch` });
      if (res.status !== 200) throw readError(res);
      const task = parseMjTask(parseJsonResponse(res, 'mj.fetch'));
      if (task.id === '') throw new UpstreamError({ kind: 'retryable', httpStatus: res.status, message: 'mj.fetch: body is not a task' });
      return task;
    },

    async listByCondition(ids, options = {}) {
      const unique = [...new Set(ids.filter((id) => id !== ''))];
      const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_MJ_LIST_BATCH));
      const tasks: MjTask[] = [];
      for (let i = 0; i < unique.length; i += batchSize) {
        const res = await http.request({
          ...poll(options),
          method: 'POST',
          path: `${prefixOf(options.mode)}/mj/task/list-by-condition`,
          json: { ids: unique.slice(i, i + batchSize) },
        });
        if (res.status !== 200) throw readError(res);
        const json = parseJsonResponse(res, 'mj.listByCondition');
        if (!Array.isArray(json)) {
          throw new UpstreamError({ kind: 'retryable', httpStatus: res.status, message: 'mj.listByCondition: the answer is not a JSON array' });
        }
        for (const item of json) {
          const task = parseMjTask(item);
          if (task.id !== '') tasks.push(task);
        }
      }
      return tasks;
    },

    async imageSeed(id, options = {}) {
      const res = await http.request({ ...poll(options), method: 'GET', path: `${prefixOf(options.mode)}/mj/task/${encodeURIComponent(id)}/image-seed` });
      if (res.status !== 200) throw readError(res);
      const body = asRecord(parseJsonResponse(res, 'mj.imageSeed')) ?? {};
      const code = asNumber(body['code']);
      const seed = asText(body['result']) ?? (typeof body['result'] === 'number' ? String(body['result']) : undefined);
      if (code !== 1 || seed === undefined) {
        throw new MjSubmitError({ mjCode: code ?? 0, description: asText(body['description']) ?? '', properties: {}, httpStatus: res.status, ...(res.requestId ? { requestId: res.requestId } : {}) });
      }
      return seed;
    },

    downloadImage(idOrUrl, options = {}) {
      return download(http, imageUrl(idOrUrl), withGuard(options));
    },

    downloadImageStream(idOrUrl, options = {}) {
      return downloadStream(http, imageUrl(idOrUrl), withGuard(options));
    },
  };
}

function buildSubmitBody(kind: MjSubmitKind, body: MjSubmitBodies[MjSubmitKind]): JsonRecord {
  const { extra, ...named } = body as { extra?: Record<string, unknown> } & JsonRecord;
  const out: JsonRecord = { ...extra };
  for (const [key, value] of Object.entries(named)) if (value !== undefined) out[key] = value;
  if (kind === 'blend') {
    const count = asArray(out['base64Array']).length;
    if (count < 2 || count > 5) throw new TypeError(`mj blend takes 2 to 5 images, got ${count}`);
  }
  if ((kind === 'action' || kind === 'modal') && asText(out['taskId']) === undefined) throw new TypeError(`mj ${kind} needs a taskId`);
  if (kind === 'action' && asText(out['customId']) === undefined) throw new TypeError('mj action needs a customId');
  if (kind === 'imagine' && asText(out['prompt']) === undefined) throw new TypeError('mj imagine needs a prompt');
  if (kind === 'describe' && asText(out['base64']) === undefined && asText(out['link']) === undefined) throw new TypeError('mj describe needs base64 or link');
  return out;
}

/** An MJ proxy business body (`SubmitResultVO`), as opposed to a gateway error (E5 has no `result`). */
const isSubmitResultBody = (json: unknown): json is JsonRecord => {
  const body = asRecord(json);
  return body !== undefined && asNumber(body['code']) !== undefined && ('result' in body || 'properties' in body) && body['type'] === undefined;
};

function parseBody(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.bodyText()) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The code table of §9.3. 1 and 22 (and 21 rewritten by the gateway) → `ok`; 21 → `modal`;
 * 23 → `retry_later`; 24 → `MjSubmitError` with `bannedWord`; 3, 4, 9, other codes →
 * `MjSubmitError` (rejected). Gateway errors (E5 400, E1 400, 401, 429, 5xx) → classified UpstreamError.
 */
export function readSubmitResponse(res: HttpResponse): MjSubmitResult {
  const isOk = res.status >= 200 && res.status < 300;
  const json = isOk ? parseJsonResponse(res, 'mj.submit') : parseBody(res);
  if (!isSubmitResultBody(json)) {
    if (!isOk) throw errorFromHttpResponse(res);
    throw new UpstreamError({
      kind: 'retryable',
      httpStatus: res.status,
      ...(res.requestId !== undefined ? { requestId: res.requestId } : {}),
      message: 'mj.submit: the answer is not a submit result',
    });
  }
  const code = asNumber(json['code']) as number;
  const description = typeof json['description'] === 'string' ? json['description'] : '';
  const properties = asRecord(json['properties']) ?? {};
  const taskId = asText(json['result']) ?? (typeof json['result'] === 'number' ? String(json['result']) : undefined);
  const base = { code, description, properties, raw: json, ...(res.requestId !== undefined ? { requestId: res.requestId } : {}) };
  const refuse = (kind: UpstreamError['kind'] = 'rejected'): MjSubmitError =>
    new MjSubmitError({ mjCode: code, description, properties, httpStatus: res.status, kind, ...(res.requestId !== undefined ? { requestId: res.requestId } : {}) });

  if (isOk && (code === 1 || code === 21 || code === 22)) {
    if (taskId === undefined) {
      throw new UpstreamError({ kind: 'rejected', httpStatus: res.status, upstreamCode: String(code), message: `mj.submit: code ${code} without a task id` });
    }
    return { ...base, outcome: code === 21 ? 'modal' : 'ok', taskId };
  }
  if (code === 23) return { ...base, outcome: 'retry_later' };
  if (code === 30) throw refuse('rate_limited');
  throw refuse();
}

/** Fetch/list/image-seed errors: E5 `task_no_found` (400, code 4) means the id is unknown. */
function readError(res: HttpResponse): UpstreamError {
  const error = errorFromHttpResponse(res);
  if (res.status === 400 && error.upstreamCode === '4' && error.upstreamType === 'upstream_error') {
    return withKind(error, 'not_found', `the gateway does not know this MJ task (HTTP 400, code 4)${error.upstreamMessage ? `: ${error.upstreamMessage}` : ''}`);
  }
  return error;
}

/** Folds MJ statuses (§9.5) into four; unknown strings stay `pending` with `isKnownStatus: false`. */
export function normalizeMjStatus(rawStatus: string): { status: MjTaskStatus; isKnownStatus: boolean } {
  switch (rawStatus.trim().toUpperCase()) {
    case 'SUCCESS':
      return { status: 'succeeded', isKnownStatus: true };
    case 'FAILURE':
    case 'FAILED':
    case 'CANCEL':
    case 'CANCELLED':
      return { status: 'failed', isKnownStatus: true };
    case 'MODAL':
      return { status: 'modal', isKnownStatus: true };
    case '':
    case 'NOT_START':
    case 'SUBMITTED':
    case 'IN_PROGRESS':
      return { status: 'pending', isKnownStatus: true };
    default:
      return { status: 'pending', isKnownStatus: false };
  }
}

const NUMBERING = /^\s*(?:[1-9]\uFE0F?\u20E3|\d+[.)、:])\s*/u;

/** The prompts of a DESCRIBE result (`1️⃣ …\n\n2️⃣ …`). */
export function splitDescribePrompts(text: string): string[] {
  return text
    .split(/\n+/)
    .map((line) => line.replace(NUMBERING, '').trim())
    .filter((line) => line !== '');
}

function readButtons(value: unknown): MjButton[] {
  const buttons: MjButton[] = [];
  for (const item of asArray(value)) {
    const b = asRecord(item);
    const customId = asText(b?.['customId']);
    if (!b || customId === undefined) continue;
    const button: MjButton = { customId, label: typeof b['label'] === 'string' ? b['label'] : '', emoji: typeof b['emoji'] === 'string' ? b['emoji'] : '' };
    const type = asNumber(b['type']);
    const style = asNumber(b['style']);
    if (type !== undefined) button.type = type;
    if (style !== undefined) button.style = style;
    buttons.push(button);
  }
  return buttons;
}

/** Reads a `MidjourneyDto` (fetch, or one list-by-condition item) leniently. */
export function parseMjTask(json: unknown): MjTask {
  const body = asRecord(json) ?? {};
  const id = asText(body['id']) ?? (typeof body['id'] === 'number' ? String(body['id']) : '');
  const rawStatus = typeof body['status'] === 'string' ? body['status'] : '';
  const { status, isKnownStatus } = normalizeMjStatus(rawStatus);
  const imageUrl = asText(body['imageUrl']);
  const failReason = asText(body['failReason']);
  const task: MjTask = {
    id,
    status,
    rawStatus,
    isKnownStatus,
    progress: status === 'succeeded' ? 100 : parseProgress(body['progress']),
    isPreviewImage: imageUrl !== undefined && status !== 'succeeded',
    isTimeout: status === 'failed' && isGatewayTimeoutText(failReason),
    buttons: readButtons(body['buttons']),
    raw: json,
  };
  const fields: Array<[keyof MjTask, unknown]> = [
    ['action', asText(body['action'])],
    ['imageUrl', imageUrl],
    ['failReason', failReason],
    ['prompt', asText(body['prompt'])],
    ['promptEn', asText(body['promptEn'])],
    ['description', asText(body['description'])],
    ['state', asText(body['state'])],
    ['submitTime', timestampToDate(body['submitTime'])],
    ['startTime', timestampToDate(body['startTime'])],
    ['finishTime', timestampToDate(body['finishTime'])],
  ];
  for (const [key, value] of fields) if (value !== undefined) (task as unknown as Record<string, unknown>)[key] = value;
  if (task.action === 'DESCRIBE' && status === 'succeeded') {
    const text = asText(asRecord(body['properties'])?.['finalPrompt']) ?? task.promptEn ?? task.prompt;
    if (text !== undefined) task.prompts = splitDescribePrompts(text);
  }
  return task;
}
