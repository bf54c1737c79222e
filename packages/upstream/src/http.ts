import { Agent, FormData, request, type Dispatcher } from 'undici';
import { cappedBody } from './capped-body';
import { UpstreamError, upstreamErrorFromResponse } from './errors';
import { gatewayLaneOf, type GatewayLane } from './gateway-lanes';
import { outcomeOfStatus, retryAfterMs, type GateOutcome, type LaneHold, type RequestGate } from './request-gate';

/** All durations in milliseconds. */
export interface UpstreamTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** Small GETs and management calls (models, balance): whole call. */
  smallMs: number;
  /** Synchronous generation calls (images, Gemini images, audio): whole call. */
  imageMs: number;
  /** Longest silence tolerated inside a stream (SSE); the gateway's own limit is 300 s. */
  streamIdleMs: number;
}

export const DEFAULT_UPSTREAM_TIMEOUTS: Readonly<UpstreamTimeouts> = {
  connectMs: 10_000,
  smallMs: 30_000,
  // The gateway waits on the upstream for ever (RELAY_TIMEOUT=0); 300 s covers slow image models.
  imageMs: 300_000,
  streamIdleMs: 300_000,
};

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 5;

/**
 * `small`: headers, body and total within `smallMs`.
 * `long`: headers and total within `imageMs`; the body may not stall longer than `smallMs`.
 * `stream`: headers within `imageMs`; the body may not stall longer than `streamIdleMs`; no total.
 */
export type TimeoutProfile = 'small' | 'long' | 'stream';

export interface CallOptions {
  /** Aborting rejects with the signal's reason (not an UpstreamError). */
  signal?: AbortSignal;
  /** Whole call, headers and body. 0 disables. */
  timeoutMs?: number;
  /** Time to receive the response headers. 0 disables. */
  headersTimeoutMs?: number;
  /** Longest pause between two body chunks. 0 disables. */
  bodyTimeoutMs?: number;
  maxResponseBytes?: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest extends CallOptions {
  method: HttpMethod;
  /** Path below the base URL (`/v1/models`), or an absolute http(s) URL. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  profile?: TimeoutProfile;
  /** Redirects to follow; defaults to 5 for GET and 0 otherwise. */
  maxRedirects?: number;
  /**
   * Send `Authorization`. Defaults to true; it is only ever sent to the gateway's own origin,
   * whatever this says.
   */
  withAuth?: boolean;
}

export interface HttpResponseHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Final URL after redirects. */
  url: URL;
  contentType?: string;
  requestId?: string;
  /** the answer made the gate hold the lane (an outage, a refused key, a 429) */
  laneHold?: LaneHold;
}

export interface HttpResponse extends HttpResponseHead {
  body: Buffer;
  bodyText(): string;
}

export interface HttpStream extends HttpResponseHead {
  /** Yields body chunks; errors are UpstreamErrors (or the caller's abort reason). Breaking out closes the body. */
  body: AsyncIterable<Buffer>;
  /** Reads the rest of the body, within the size cap. */
  readAll(): Promise<Buffer>;
  /** Releases the connection without reading the rest. */
  close(): void;
}

export interface UpstreamHttpOptions {
  baseUrl: string;
  apiKey?: string;
  timeouts?: Partial<UpstreamTimeouts>;
  maxResponseBytes?: number;
  userAgent?: string;
  /** Defaults to a private undici Agent (keep-alive pool) owned and closed by this instance. */
  dispatcher?: Dispatcher;
  /** paces gateway requests per lane and holds a lane during outages; none: every request goes */
  gate?: RequestGate;
  /** told how each request went (metrics); see UpstreamObserver */
  observer?: UpstreamObserver;
}

/** How one request went: its answer's status class, or why there was none. */
export type UpstreamRequestOutcome = 'ok' | '4xx' | '429' | '5xx' | 'timeout' | 'network';

/**
 * One request that went on the wire (requests held back by the gate and calls the caller aborted
 * are not reported). `family` is the gateway lane of the route, `other` for the gateway's unpaced
 * routes (balance, models, image proxies), `external` for URLs outside the gateway's origin.
 */
export type UpstreamRequestObservation = {
  family: GatewayLane | 'other' | 'external';
  method: HttpMethod;
  outcome: UpstreamRequestOutcome;
  /** until the response headers (or the failure); the body may stream for longer */
  durationMs: number;
};

/** Must not throw; it runs on the request's path. */
export type UpstreamObserver = (observation: UpstreamRequestObservation) => void;

interface ResolvedTimeouts {
  totalMs: number;
  headersMs: number;
  bodyMs: number;
}

/**
 * The one place that speaks HTTP to the gateway: base URL, Bearer key, per-call timeouts,
 * size caps and redirect handling. It returns any status; callers decide what is a failure.
 */
export class UpstreamHttp {
  readonly baseUrl: URL;
  readonly timeouts: Readonly<UpstreamTimeouts>;
  readonly maxResponseBytes: number;
  private readonly apiKey: string | undefined;
  private readonly userAgent: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly gate: RequestGate | undefined;
  private observer: UpstreamObserver | undefined;

  constructor(options: UpstreamHttpOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`upstream baseUrl must be http(s), got ${base.protocol}`);
    }
    // A trailing slash on the base would make '/v1/x' joins produce '//v1/x'.
    base.pathname = base.pathname.replace(/\/+$/, '');
    base.search = '';
    base.hash = '';
    this.baseUrl = base;
    this.timeouts = { ...DEFAULT_UPSTREAM_TIMEOUTS, ...definedOnly(options.timeouts ?? {}) };
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const key = options.apiKey?.trim().replace(/^Bearer\s+/i, '');
    this.apiKey = key === '' ? undefined : key;
    this.userAgent = options.userAgent ?? 'genqueue-upstream/0.1';
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: this.timeouts.connectMs } });
    this.gate = options.gate;
    this.observer = options.observer;
  }

  /** Sets (or with undefined, removes) the observer of every request. */
  setObserver(observer: UpstreamObserver | undefined): void {
    this.observer = observer;
  }

  /** Resolves a path below the base URL (keeping any base path prefix), or an absolute URL. */
  resolveUrl(pathOrUrl: string, query?: HttpRequest['query']): URL {
    let url: URL;
    if (/^https?:\/\//i.test(pathOrUrl)) {
      url = new URL(pathOrUrl);
    } else {
      const path = pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`;
      url = new URL(this.baseUrl.href);
      url.pathname = `${this.baseUrl.pathname}${path}`.replace(/^\/\//, '/');
    }
    if (query) {
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
    }
    return url;
  }

  /** True when `url` is served by the gateway itself (same scheme, host and port). */
  isGatewayOrigin(url: URL): boolean {
    return url.origin === this.baseUrl.origin;
  }

  /** Sends a request and reads the whole body within the size cap. Does not throw on HTTP status. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    return readResponse(await this.stream(req));
  }

  /** Sends a request and hands back the body as a stream. Does not throw on HTTP status. */
  async stream(req: HttpRequest): Promise<HttpStream> {
    const maxRedirects = req.maxRedirects ?? (req.method === 'GET' ? MAX_REDIRECTS : 0);
    let url = this.resolveUrl(req.path, req.query);
    for (let hop = 0; ; hop += 1) {
      const opened = await this.open(req, url);
      const location = opened.headers['location'];
      if (!isRedirect(opened.status) || location === undefined || hop >= maxRedirects) return opened;
      opened.close();
      url = new URL(location, url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new UpstreamError({ kind: 'rejected', httpStatus: opened.status, message: `redirect to unsupported scheme ${url.protocol}` });
      }
    }
  }

  /**
   * An answer whose status looked fine to the gate but whose body says the key is refused or its
   * quota spent (MJ's E5 `quota_not_enough` comes as HTTP 400): tell the gate, so the lane is held
   * as for a 401/403 and `error` carries the hold (its job waits instead of failing).
   */
  async reportRefusal(res: { url: URL; status: number }, method: string, error: UpstreamError): Promise<void> {
    if (!this.gate || res.status === 401 || res.status === 403) return;
    const lane = gatewayLaneOf(method, res.url, this.baseUrl);
    if (lane) await this.reportToGate(lane, 'refused', undefined, error);
  }

  /** Same as `request`, but a non-2xx status throws the classified UpstreamError. */
  async requestOk(req: HttpRequest): Promise<HttpResponse> {
    const res = await this.request(req);
    if (res.status < 200 || res.status >= 300) throw errorFromHttpResponse(res);
    return res;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Waits for nothing: a held lane throws at once, so the job can wait without holding a slot. */
  private async passGate(lane: GatewayLane, what: string): Promise<void> {
    let grant: Awaited<ReturnType<RequestGate['acquire']>>;
    try {
      grant = await this.gate!.acquire(lane);
    } catch {
      return; // the gate's store is unreachable: pacing is best effort, the request goes
    }
    if (grant.ok) return;
    const error = new UpstreamError({ kind: 'rate_limited', message: `${what} held back: the ${lane} lane waits ${grant.waitMs} ms (${grant.reason})` });
    error.laneHold = { lane, waitMs: grant.waitMs, reason: grant.reason, sent: false };
    throw error;
  }

  /** Tells the gate how the lane's request went; marks `target` when the lane is held now. */
  private async reportToGate(lane: GatewayLane, outcome: GateOutcome, retryAfter: number | undefined, target: { laneHold?: LaneHold }): Promise<void> {
    // An accepted answer never holds a lane: record it without keeping the request waiting on Redis.
    if (outcome === 'ok') {
      this.gate!.report(lane, outcome, Date.now()).catch(() => undefined);
      return;
    }
    try {
      const verdict = await this.gate!.report(lane, outcome, Date.now(), retryAfter);
      if (verdict.held) target.laneHold = { lane, waitMs: verdict.waitMs, reason: verdict.reason, sent: true };
    } catch {
      // best effort, as above
    }
  }

  private resolveTimeouts(req: CallOptions & { profile?: TimeoutProfile }): ResolvedTimeouts {
    const t = this.timeouts;
    let resolved: ResolvedTimeouts;
    switch (req.profile ?? 'small') {
      case 'small':
        resolved = { totalMs: t.smallMs, headersMs: t.smallMs, bodyMs: t.smallMs };
        break;
      case 'long':
        resolved = { totalMs: t.imageMs, headersMs: t.imageMs, bodyMs: t.smallMs };
        break;
      case 'stream':
        resolved = { totalMs: 0, headersMs: t.imageMs, bodyMs: t.streamIdleMs };
        break;
    }
    if (req.timeoutMs !== undefined) resolved.totalMs = req.timeoutMs;
    if (req.headersTimeoutMs !== undefined) resolved.headersMs = req.headersTimeoutMs;
    else if (req.timeoutMs !== undefined && req.timeoutMs > 0 && (resolved.headersMs === 0 || req.timeoutMs < resolved.headersMs)) {
      resolved.headersMs = req.timeoutMs;
    }
    if (req.bodyTimeoutMs !== undefined) resolved.bodyMs = req.bodyTimeoutMs;
    return resolved;
  }

  private buildHeaders(req: HttpRequest, url: URL): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    // The key never leaves the gateway's origin, whatever the caller asked for.
    if ((req.withAuth ?? true) && this.apiKey !== undefined && this.isGatewayOrigin(url)) {
      headers['authorization'] = `Bearer ${this.apiKey}`;
    }
    if (req.json !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
    return headers;
  }

  private async open(req: HttpRequest, url: URL): Promise<HttpStream> {
    const timeouts = this.resolveTimeouts(req);
    const maxBytes = req.maxResponseBytes ?? this.maxResponseBytes;
    const callerSignal = req.signal;
    const what = `${req.method} ${describeUrl(url, this.baseUrl)}`;
    if (callerSignal?.aborted) throw abortReason(callerSignal);
    const lane = this.gate ? gatewayLaneOf(req.method, url, this.baseUrl) : null;
    if (lane) await this.passGate(lane, what);

    const controller = new AbortController();
    const startedMs = Date.now();
    const observe = (outcome: UpstreamRequestOutcome): void => {
      if (!this.observer) return;
      const family = gatewayLaneOf(req.method, url, this.baseUrl) ?? (this.isGatewayOrigin(url) ? 'other' : 'external');
      try {
        this.observer({ family, method: req.method, outcome, durationMs: Date.now() - startedMs });
      } catch {
        // an observer's fault never fails a request
      }
    };
    let hasTimedOut = false;
    const timer =
      timeouts.totalMs > 0
        ? setTimeout(() => {
            hasTimedOut = true;
            controller.abort(new Error('total timeout'));
          }, timeouts.totalMs)
        : undefined;
    const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    let isCleaned = false;
    const cleanup = (): void => {
      if (isCleaned) return;
      isCleaned = true;
      if (timer !== undefined) clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    const translate = (err: unknown): unknown => {
      if (callerSignal?.aborted) return abortReason(callerSignal);
      if (hasTimedOut) {
        return new UpstreamError(
          { kind: 'retryable', message: `${what} exceeded the total timeout of ${timeouts.totalMs} ms` },
          { cause: err },
        );
      }
      return networkError(err, what, timeouts);
    };

    let res: Dispatcher.ResponseData;
    try {
      let body: string | FormData | undefined;
      if (req.form !== undefined) body = req.form;
      else if (req.json !== undefined) body = JSON.stringify(req.json);
      res = await request(url, {
        dispatcher: this.dispatcher,
        method: req.method,
        headers: this.buildHeaders(req, url),
        body: body ?? null,
        signal: controller.signal,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
    } catch (err) {
      cleanup();
      const failure = translate(err);
      if (!callerSignal?.aborted && failure instanceof UpstreamError) observe(hasTimedOut || isTimeoutCode(errorCode(err)) ? 'timeout' : 'network');
      // No answer at all (timeout, reset, refused connection) counts as an outage of the lane.
      if (lane && failure instanceof UpstreamError) await this.reportToGate(lane, 'outage', undefined, failure);
      throw failure;
    }

    observe(outcomeOfHttpStatus(res.statusCode));
    const headers = normalizeHeaders(res.headers);
    const head: HttpResponseHead = { status: res.statusCode, headers, url };
    if (lane) await this.reportToGate(lane, outcomeOfStatus(res.statusCode), retryAfterMs(headers['retry-after']), head);
    const contentType = headers['content-type'];
    if (contentType !== undefined) head.contentType = contentType;
    const requestId = headers['x-oneapi-request-id'];
    if (requestId !== undefined) head.requestId = requestId;

    const declaredLength = Number(headers['content-length']);
    const raw = res.body;
    // Errors surface through iteration; without a listener, an error before iteration starts would crash the process.
    raw.on('error', noop);
    const discard = (): void => {
      if (!raw.destroyed) raw.destroy();
    };
    const tooLarge = (): UpstreamError =>
      new UpstreamError({
        kind: 'rejected',
        httpStatus: res.statusCode,
        message: `${what}: response body exceeds the limit of ${maxBytes} bytes`,
      });
    if (Number.isFinite(declaredLength) && declaredLength > maxBytes && !isRedirect(res.statusCode)) {
      discard();
      cleanup();
      throw tooLarge();
    }

    const release = (): void => {
      cleanup();
      discard();
    };
    return { ...head, ...cappedBody(raw, { maxBytes, tooLarge, translate, release }) };
  }
}

/** Reads the rest of a streamed response into a buffered one. */
export async function readResponse(stream: HttpStream): Promise<HttpResponse> {
  const body = await stream.readAll();
  const res: HttpResponse = { status: stream.status, headers: stream.headers, url: stream.url, body, bodyText: () => body.toString('utf8') };
  if (stream.contentType !== undefined) res.contentType = stream.contentType;
  if (stream.requestId !== undefined) res.requestId = stream.requestId;
  if (stream.laneHold !== undefined) res.laneHold = stream.laneHold;
  return res;
}

/** The classified error for a non-2xx (or envelope-carrying) response. */
export function errorFromHttpResponse(res: HttpResponse, statusOverride?: number): UpstreamError {
  const input: { status: number; bodyText: string; contentType?: string; requestId?: string } = {
    status: statusOverride ?? res.status,
    bodyText: res.bodyText(),
  };
  if (res.contentType !== undefined) input.contentType = res.contentType;
  if (res.requestId !== undefined) input.requestId = res.requestId;
  const error = upstreamErrorFromResponse(input);
  if (res.laneHold !== undefined) error.laneHold = res.laneHold;
  return error;
}

function noop(): void {}

function outcomeOfHttpStatus(status: number): UpstreamRequestOutcome {
  if (status === 429) return '429';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return 'ok';
}

function isTimeoutCode(code: string | undefined): boolean {
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT';
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function definedOnly<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function normalizeHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Path only for gateway URLs; origin + path for others. Query strings (signatures) are never logged. */
function describeUrl(url: URL, base: URL): string {
  return url.origin === base.origin ? url.pathname : `${url.origin}${url.pathname}`;
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return errorCode((err as { cause?: unknown }).cause);
}

/** Transport failures are retryable; programming errors (bad arguments) are passed through untouched. */
function networkError(err: unknown, what: string, timeouts: ResolvedTimeouts): unknown {
  if (err instanceof UpstreamError) return err;
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  let message: string;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      message = `${what}: no response headers within ${timeouts.headersMs} ms (headers timeout)`;
      break;
    case 'UND_ERR_BODY_TIMEOUT':
      message = `${what}: response body stalled for more than ${timeouts.bodyMs} ms (body timeout)`;
      break;
    case 'UND_ERR_CONNECT_TIMEOUT':
      message = `${what}: could not connect in time (connect timeout)`;
      break;
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_INVALID_RETURN_VALUE':
    case 'UND_ERR_NOT_SUPPORTED':
    case 'ERR_INVALID_URL':
      return err;
    default:
      if (code === undefined || !(code.startsWith('UND_ERR') || NETWORK_CODES.has(code))) {
        // Unknown failures inside the HTTP stack are still transport failures from the job's view.
        if (!(err instanceof Error)) return err;
      }
      message = `${what}: network error${code ? ` ${code}` : ''}: ${detail}`;
  }
  return new UpstreamError({ kind: 'retryable', message }, { cause: err });
}
