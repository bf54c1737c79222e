import type { LaneHold } from './request-gate';

/**
 * Upstream failures are classified once, here, from the HTTP status and the machine-readable `code`
 * of the gateway's error body. Message text is never used for decisions: it is often Chinese and it
 * changes between gateway builds. See docs/gateway.md §1.3 for the error shapes E1–E10.
 */

/** What a caller should do about a failure. */
export type UpstreamErrorKind =
  /** 429 or a rate-limit code: back off the whole lane, then retry. */
  | 'rate_limited'
  /** 5xx, timeouts, resets, HTML error pages: retry with backoff. */
  | 'retryable'
  /** The input was refused (banned prompt, invalid size, unknown model): retrying cannot help. */
  | 'rejected'
  /** Bad, expired or exhausted key, quota, IP or group not allowed. */
  | 'auth'
  /** Unknown task id, expired result URL. */
  | 'not_found';

export interface UpstreamFailure {
  kind: UpstreamErrorKind;
  /** Human-readable summary for logs and job errors; never parse it. */
  message: string;
  httpStatus?: number;
  /** The body's `code`, as a string (numbers are stringified, empty strings dropped). */
  upstreamCode?: string;
  upstreamType?: string;
  /** The body's message, cut to about 500 characters with its `(request id: …)` suffix kept. */
  upstreamMessage?: string;
  /** `X-Oneapi-Request-Id`, or the id found in the message suffix. */
  requestId?: string;
}

export class UpstreamError extends Error implements UpstreamFailure {
  override readonly name = 'UpstreamError';
  readonly kind: UpstreamErrorKind;
  readonly httpStatus?: number;
  readonly upstreamCode?: string;
  readonly upstreamType?: string;
  readonly upstreamMessage?: string;
  readonly requestId?: string;
  /** the gateway lane holds requests back (outage, refused key, 429): wait this out, no attempt used */
  laneHold?: LaneHold;

  constructor(failure: UpstreamFailure, options?: { cause?: unknown }) {
    super(failure.message, options);
    this.kind = failure.kind;
    if (failure.httpStatus !== undefined) this.httpStatus = failure.httpStatus;
    if (failure.upstreamCode !== undefined) this.upstreamCode = failure.upstreamCode;
    if (failure.upstreamType !== undefined) this.upstreamType = failure.upstreamType;
    if (failure.upstreamMessage !== undefined) this.upstreamMessage = failure.upstreamMessage;
    if (failure.requestId !== undefined) this.requestId = failure.requestId;
  }

  /** True for kinds where trying again later may succeed. */
  get isRetryable(): boolean {
    return this.kind === 'retryable' || this.kind === 'rate_limited';
  }

  /** Plain fields for structured logs (Error's own properties are not enumerable). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      httpStatus: this.httpStatus,
      upstreamCode: this.upstreamCode,
      upstreamType: this.upstreamType,
      upstreamMessage: this.upstreamMessage,
      requestId: this.requestId,
      laneHold: this.laneHold,
    };
  }
}

export function isUpstreamError(value: unknown): value is UpstreamError {
  return value instanceof UpstreamError;
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/** Which of the gateway's error families a body belongs to (§1.3). */
export type ErrorBodyShape =
  | 'openai' // E1, E2, E4, E9, E10 and Google-style {error:{code,message,status}}
  | 'task' // E3 {code, message, data}
  | 'mj' // E5/E6 {description, type?, code:number}
  | 'api' // E7 {success:false, message}
  | 'message'; // any other object with a top-level string `message`

export interface ParsedErrorBody {
  shape: ErrorBodyShape;
  code?: string;
  type?: string;
  message?: string;
  /** Numeric `code` of an MJ-shaped body (E5/E6). */
  mjCode?: number;
}

const UPSTREAM_MESSAGE_MAX_CHARS = 500;
const REQUEST_ID_SUFFIX = /\s*\(request id: ([^()\s]+)\)\s*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `code` may be a string, a number, empty or missing (E2). Empty means absent. */
export function codeToString(code: unknown): string | undefined {
  if (typeof code === 'string') {
    const trimmed = code.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof code === 'number' && Number.isFinite(code)) return String(code);
  return undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function parseJsonSafely(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '' || (trimmed[0] !== '{' && trimmed[0] !== '[')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads any of the gateway's error shapes. Returns undefined when the value is not an object
 * with something error-like in it.
 */
export function parseErrorBody(json: unknown): ParsedErrorBody | undefined {
  if (!isRecord(json)) return undefined;

  const error = json['error'];
  if (isRecord(error)) {
    const parsed: ParsedErrorBody = { shape: 'openai' };
    const message = nonEmptyString(error['message']);
    // Google-style errors carry `status` ("INVALID_ARGUMENT") where OpenAI carries `type`.
    const type = nonEmptyString(error['type']) ?? nonEmptyString(error['status']);
    const code = codeToString(error['code']);
    if (message !== undefined) parsed.message = message;
    if (type !== undefined) parsed.type = type;
    if (code !== undefined) parsed.code = code;
    return parsed;
  }
  if (typeof error === 'string' && error.trim() !== '') {
    const parsed: ParsedErrorBody = { shape: 'openai', message: error.trim() };
    const code = codeToString(json['code']);
    if (code !== undefined) parsed.code = code;
    return parsed;
  }

  if (typeof json['description'] === 'string' && typeof json['code'] === 'number') {
    // E5 has a trailing space (Description + " " + Result).
    const parsed: ParsedErrorBody = { shape: 'mj', mjCode: json['code'], code: String(json['code']) };
    const message = nonEmptyString(json['description']);
    const type = nonEmptyString(json['type']);
    if (message !== undefined) parsed.message = message;
    if (type !== undefined) parsed.type = type;
    return parsed;
  }

  if (json['success'] === false || json['code'] === false) {
    const parsed: ParsedErrorBody = { shape: 'api' };
    const message = nonEmptyString(json['message']);
    if (message !== undefined) parsed.message = message;
    return parsed;
  }

  if (typeof json['code'] === 'string' && 'message' in json) {
    const code = codeToString(json['code']);
    const message = typeof json['message'] === 'string' ? json['message'] : undefined;
    if (code === 'fail_to_fetch_task' && message !== undefined) return parseFailToFetchTask(message);
    const parsed: ParsedErrorBody = { shape: 'task' };
    if (code !== undefined) parsed.code = code;
    const trimmed = nonEmptyString(message);
    if (trimmed !== undefined) parsed.message = trimmed;
    return parsed;
  }

  const message = nonEmptyString(json['message']);
  if (message !== undefined) return { shape: 'message', message };
  return undefined;
}

/**
 * E3 `fail_to_fetch_task` carries the upstream's raw body as a string in `message`.
 * The inner error, when it parses, is more useful than the wrapper.
 */
function parseFailToFetchTask(rawInner: string): ParsedErrorBody {
  const inner = parseErrorBody(parseJsonSafely(rawInner));
  const parsed: ParsedErrorBody = { shape: 'task', code: 'fail_to_fetch_task' };
  if (inner) {
    if (inner.code !== undefined) parsed.code = inner.code;
    if (inner.type !== undefined) parsed.type = inner.type;
    if (inner.message !== undefined) parsed.message = inner.message;
    return parsed;
  }
  const message = nonEmptyString(rawInner);
  if (message !== undefined) parsed.message = looksLikeHtml(message) ? 'upstream answered an HTML page' : message;
  return parsed;
}

/**
 * Detects an error envelope inside a 2xx body: `{"error":{…}}` on 200 (unknown `/v1/models/{id}`,
 * billing routes), E7 `{"success":false}`, and E3 `{"code":"…","data":null}`.
 * Objects that carry a result next to an `error` field (a failed video object, `error: null`) are not envelopes.
 */
export function detectErrorEnvelope(json: unknown): ParsedErrorBody | undefined {
  if (!isRecord(json)) return undefined;
  const error = json['error'];
  if (error !== undefined && error !== null) {
    const isResource = ['id', 'object', 'data', 'choices', 'candidates', 'status'].some((key) => key in json);
    if (!isResource && (isRecord(error) || (typeof error === 'string' && error.trim() !== ''))) {
      return parseErrorBody(json);
    }
  }
  if (json['success'] === false || json['code'] === false) return parseErrorBody(json);
  const code = json['code'];
  if (typeof code === 'string' && code !== '' && code !== 'success' && 'message' in json) {
    if (json['data'] === null || json['data'] === undefined) return parseErrorBody(json);
  }
  return undefined;
}

export function looksLikeHtml(text: string, contentType?: string): boolean {
  if (contentType !== undefined && /\btext\/html\b/i.test(contentType)) return true;
  const head = text.trimStart().slice(0, 64).toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head') || head.startsWith('<body');
}

/** Cuts a message to about 500 characters, keeping the gateway's `(request id: …)` suffix. */
export function cutUpstreamMessage(message: string, maxChars = UPSTREAM_MESSAGE_MAX_CHARS): string {
  const text = message.trim();
  if (text.length <= maxChars) return text;
  const suffixMatch = REQUEST_ID_SUFFIX.exec(text);
  const suffix = suffixMatch ? ` (request id: ${suffixMatch[1] ?? ''})` : '';
  const keep = Math.max(0, maxChars - suffix.length - 1);
  return `${text.slice(0, keep).trimEnd()}…${suffix}`;
}

function requestIdFromMessage(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  return REQUEST_ID_SUFFIX.exec(message)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

/**
 * Codes that decide the kind whatever the status (except 429, which is always `rate_limited`).
 * Gateway codes come from new-api `types/error.go`; the rest are upstream OpenAI / task codes.
 */
const CODE_KINDS: Readonly<Record<string, UpstreamErrorKind>> = {
  // quota and permission
  insufficient_user_quota: 'auth',
  pre_consume_token_quota_failed: 'auth',
  access_denied: 'auth',
  entitlement_required: 'auth',
  entitlement_inactive: 'auth',
  entitlement_daily_limit_exceeded: 'auth',
  entitlement_total_limit_exceeded: 'auth',
  // refused input or a model the gateway cannot serve
  invalid_request: 'rejected',
  model_not_found: 'rejected',
  model_price_error: 'rejected',
  sensitive_words_detected: 'rejected',
  prompt_blocked: 'rejected',
  'violation_fee.grok.csam': 'rejected',
  content_policy_violation: 'rejected',
  moderation_blocked: 'rejected',
  api_not_implemented: 'rejected',
  convert_request_failed: 'rejected',
  bad_request_body: 'rejected',
  read_request_body_failed: 'rejected',
  invalid_size: 'rejected',
  missing_model: 'rejected',
  // tasks
  task_not_exist: 'not_found',
  task_not_found: 'not_found',
  // load
  rate_limit_exceeded: 'rate_limited',
  token_concurrency_limit_reached: 'rate_limited',
  system_cpu_overloaded: 'retryable',
  token_concurrency_unavailable: 'retryable',
  // gateway ↔ upstream transport faults; they do not override a 4xx status
  do_request_failed: 'retryable',
  get_channel_failed: 'retryable',
  read_response_body_failed: 'retryable',
  bad_response: 'retryable',
  bad_response_body: 'retryable',
  empty_response: 'retryable',
};

/** MJ numeric codes on E5 bodies: 5 = gateway↔proxy failure, 30 = group saturated. */
const MJ_CODE_KINDS: Readonly<Record<number, UpstreamErrorKind>> = { 5: 'retryable', 30: 'rate_limited' };

/**
 * new-api's own MJ errors (E5, code 4) name the error in `description`: `quota_not_enough ` is the
 * gateway's spent balance (§9.7), a refusal of the key like `insufficient_user_quota`, not of the input.
 */
const MJ_DESCRIPTION_KINDS: Readonly<Record<string, UpstreamErrorKind>> = { quota_not_enough: 'auth' };

function kindFromCode(code: string | undefined, shape: ErrorBodyShape | undefined, mjCode: number | undefined, message?: string): UpstreamErrorKind | undefined {
  if (shape === 'mj' && mjCode !== undefined) return MJ_CODE_KINDS[mjCode] ?? MJ_DESCRIPTION_KINDS[(message ?? '').trim().split(/\s/)[0] ?? ''];
  if (code === undefined) return undefined;
  const kind = CODE_KINDS[code] ?? CODE_KINDS[code.toLowerCase()];
  if (kind) return kind;
  if (code.startsWith('channel:')) return 'retryable';
  return undefined;
}

function kindFromStatus(status: number): UpstreamErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 408 || status === 425) return 'retryable';
  if (status >= 500) return 'retryable';
  if (status >= 400) return 'rejected';
  // 1xx/3xx reaching classification: a redirect that was not followed will not work next time either.
  if (status >= 300) return 'rejected';
  return 'retryable';
}

export interface ClassifyInput {
  status: number;
  bodyText: string;
  contentType?: string;
  /** X-Oneapi-Request-Id header, if known. */
  requestId?: string;
}

const KIND_SUMMARY: Readonly<Record<UpstreamErrorKind, string>> = {
  rate_limited: 'gateway rate limit',
  retryable: 'gateway error',
  rejected: 'gateway rejected the request',
  auth: 'gateway refused the API key (auth or quota)',
  not_found: 'not found on the gateway',
};

/**
 * Classifies a failed gateway answer: a non-2xx status, or a 2xx whose body is an error envelope.
 * Pure; tolerates every shape E1–E10, empty bodies and non-JSON bodies.
 *
 * Order: 429 → `rate_limited`; `new_api_panic` → `retryable`; known `code` → its kind
 * (transport-fault codes never override a 4xx); else the status (2xx envelopes use a numeric
 * `code` of 400–599 as the status, and are `rejected` otherwise).
 */
export function classifyUpstreamFailure(input: ClassifyInput): UpstreamFailure {
  const { status, bodyText, contentType } = input;
  const isSuccessStatus = status >= 200 && status < 300;
  const trimmed = bodyText.trim();

  if (trimmed === '') {
    const kind = isSuccessStatus ? 'retryable' : kindFromStatus(status);
    return withRequestId(
      { kind, httpStatus: status, message: `${KIND_SUMMARY[kind]} (HTTP ${status}, empty body)` },
      input.requestId,
    );
  }

  const json = parseJsonSafely(trimmed);
  if (json === undefined && looksLikeHtml(trimmed, contentType)) {
    const kind = status === 429 ? 'rate_limited' : isSuccessStatus ? 'retryable' : kindFromStatus(status);
    return withRequestId(
      { kind, httpStatus: status, message: `upstream answered an HTML error page (HTTP ${status})` },
      input.requestId,
    );
  }

  const parsed = json === undefined ? undefined : parseErrorBody(json);
  const rawMessage = parsed?.message ?? (json === undefined ? trimmed : undefined);
  const upstreamMessage = rawMessage === undefined ? undefined : cutUpstreamMessage(rawMessage);
  const code = parsed?.code;

  let kind: UpstreamErrorKind;
  if (status === 429) {
    kind = 'rate_limited';
  } else if (parsed?.type === 'new_api_panic') {
    kind = 'retryable';
  } else {
    const byCode = kindFromCode(code, parsed?.shape, parsed?.mjCode, parsed?.message);
    // A transport-fault code under a 4xx usually mirrors an upstream refusal; MJ code 5 is the exception (always 400).
    const isBlockedOverride = byCode === 'retryable' && status >= 400 && status < 500 && parsed?.shape !== 'mj';
    if (byCode !== undefined && !isBlockedOverride) {
      kind = byCode;
    } else if (isSuccessStatus) {
      const numeric = code !== undefined && /^\d{3}$/.test(code) ? Number(code) : undefined;
      if (numeric !== undefined && numeric >= 400 && numeric <= 599) kind = kindFromStatus(numeric);
      else kind = parsed ? 'rejected' : 'retryable';
    } else {
      kind = kindFromStatus(status);
    }
  }

  const failure: UpstreamFailure = {
    kind,
    httpStatus: status,
    message: describe(kind, status, code, upstreamMessage, parsed === undefined && json === undefined),
  };
  if (code !== undefined) failure.upstreamCode = code;
  if (parsed?.type !== undefined) failure.upstreamType = parsed.type;
  if (upstreamMessage !== undefined) failure.upstreamMessage = upstreamMessage;
  return withRequestId(failure, input.requestId ?? requestIdFromMessage(rawMessage));
}

function describe(kind: UpstreamErrorKind, status: number, code: string | undefined, upstreamMessage: string | undefined, isPlainText: boolean): string {
  let summary = KIND_SUMMARY[kind];
  if (code === 'model_not_found') summary = 'no channel or model on the gateway serves this model';
  else if (code === 'task_not_exist' || code === 'task_not_found') summary = 'the gateway does not know this task';
  else if (code === 'insufficient_user_quota' || code === 'pre_consume_token_quota_failed') summary = 'gateway quota exhausted';
  const where = code === undefined ? `HTTP ${status}` : `HTTP ${status}, code ${code}`;
  const detail = upstreamMessage === undefined ? '' : `: ${isPlainText ? `non-JSON body: ${upstreamMessage.slice(0, 200)}` : upstreamMessage}`;
  return `${summary} (${where})${detail}`;
}

function withRequestId(failure: UpstreamFailure, requestId: string | undefined): UpstreamFailure {
  if (requestId !== undefined && requestId !== '') failure.requestId = requestId;
  return failure;
}

/** Builds the error to throw for a failed answer. */
export function upstreamErrorFromResponse(input: ClassifyInput): UpstreamError {
  return new UpstreamError(classifyUpstreamFailure(input));
}
