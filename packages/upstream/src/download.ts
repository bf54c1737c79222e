import { request, type Dispatcher } from 'undici';
import { cappedBody } from './capped-body';
import { classifyUpstreamFailure, UpstreamError } from './errors';
import { errorFromHttpResponse, readResponse, type HttpStream, type UpstreamHttp } from './http';

/**
 * Fetches a result URL (image, video) or a URL a tenant chose (a media input, a link a model
 * printed). `data:` URLs are decoded locally. Redirects are followed by hand so each hop is
 * checked: only the gateway's own origin goes through the gateway client (with its key); every
 * other hop goes through the public dispatcher (the connect-time SSRF guard) without the key.
 */

/**
 * `gateway`: a result URL the gateway gave us for our own request (its origin gets the key).
 * `tenant`: a URL a tenant gave or a model printed: refused on the gateway's origin, on any hop,
 * so it can never be sent the key nor read the shared account's tasks.
 */
export type DownloadSource = 'gateway' | 'tenant';

export interface DownloadOptions {
  /** Defaults to the client's `maxResponseBytes`. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Whole download, all redirects included. Defaults to the client's `imageMs`. */
  timeoutMs?: number;
  /** Called for every URL before it is fetched; a throw stops the download. */
  assertUrlAllowed?: (url: URL) => Promise<void>;
  /** Defaults to `gateway`. */
  source?: DownloadSource;
}

export interface DownloadResult {
  contentType: string;
  bytes: Buffer;
  /** Final URL after redirects (the `data:` URL itself is not echoed back). */
  url?: string;
}

/** A download whose body is read as it arrives (within `maxBytes`); `close()` drops the rest. */
export interface DownloadStream {
  contentType: string;
  body: AsyncIterable<Buffer>;
  url?: string;
  close(): void;
}

const MAX_REDIRECTS = 5;

/** Said to tenants when their URL points at the gateway; the gateway's address is not repeated. */
export const GATEWAY_ORIGIN_REFUSED = "refused: the URL is on the gateway's own origin";

// The dispatcher for hops off the gateway's origin, per gateway client (set by createUpstreamClient),
// so every entry point (client.download, videos, MJ) uses it without threading it through each call.
const publicDispatchers = new WeakMap<UpstreamHttp, Dispatcher>();

/** Hops off the gateway's origin go through `dispatcher` (the connect-time SSRF guard). */
export function setPublicDispatcher(http: UpstreamHttp, dispatcher: Dispatcher): void {
  publicDispatchers.set(http, dispatcher);
}

export async function download(http: UpstreamHttp, rawUrl: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const maxBytes = options.maxBytes ?? http.maxResponseBytes;
  if (/^data:/i.test(rawUrl)) return decodeDataUrl(rawUrl, maxBytes);
  const stream = await downloadStream(http, rawUrl, options);
  const chunks: Buffer[] = [];
  for await (const chunk of stream.body) chunks.push(chunk);
  return { contentType: stream.contentType, bytes: Buffer.concat(chunks), ...(stream.url !== undefined ? { url: stream.url } : {}) };
}

/** As `download`, but the body is handed over as it arrives (the caller streams it to storage). */
export async function downloadStream(http: UpstreamHttp, rawUrl: string, options: DownloadOptions = {}): Promise<DownloadStream> {
  const maxBytes = options.maxBytes ?? http.maxResponseBytes;
  if (/^data:/i.test(rawUrl)) {
    const decoded = decodeDataUrl(rawUrl, maxBytes);
    return { contentType: decoded.contentType, body: oneChunk(decoded.bytes), close: () => undefined };
  }

  const timeoutMs = options.timeoutMs ?? http.timeouts.imageMs;
  const deadline = Date.now() + timeoutMs;
  const publicDispatcher = publicDispatchers.get(http);
  let url = parseHttpUrl(rawUrl);
  for (let hop = 0; ; hop += 1) {
    const onGateway = http.isGatewayOrigin(url);
    if (options.source === 'tenant' && onGateway) throw new UpstreamError({ kind: 'rejected', message: GATEWAY_ORIGIN_REFUSED });
    await checkAllowed(url, options.assertUrlAllowed);
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new UpstreamError({ kind: 'retryable', message: `download exceeded the total timeout of ${timeoutMs} ms` });
    }
    const call = { remainingMs, bodyTimeoutMs: Math.min(remainingMs, http.timeouts.smallMs), maxBytes, signal: options.signal };
    const stream =
      onGateway || publicDispatcher === undefined
        ? await http.stream({
            method: 'GET',
            path: url.href,
            maxRedirects: 0,
            timeoutMs: remainingMs,
            headersTimeoutMs: remainingMs,
            bodyTimeoutMs: call.bodyTimeoutMs,
            maxResponseBytes: maxBytes,
            // the key never goes with a tenant's URL, whatever the origin check above let through
            withAuth: options.source !== 'tenant',
            ...(options.signal !== undefined ? { signal: options.signal } : {}),
          })
        : await openPublic(publicDispatcher, url, call);
    const location = stream.headers['location'];
    if (stream.status >= 300 && stream.status < 400 && location !== undefined) {
      stream.close();
      if (hop >= MAX_REDIRECTS) {
        throw new UpstreamError({ kind: 'rejected', httpStatus: stream.status, message: `download: more than ${MAX_REDIRECTS} redirects` });
      }
      url = parseHttpUrl(new URL(location, url).href);
      continue;
    }
    if (stream.status === 403 || stream.status === 404 || stream.status === 410) {
      const res = await readResponse(stream);
      const failure = onGateway ? classifyUpstreamFailure({ status: res.status, bodyText: res.bodyText() }) : undefined;
      throw new UpstreamError({
        ...(failure ?? {}),
        kind: 'not_found',
        httpStatus: res.status,
        ...(res.requestId !== undefined ? { requestId: res.requestId } : {}),
        message: `result URL expired or no longer available (HTTP ${res.status} from ${url.host})`,
      });
    }
    if (stream.status < 200 || stream.status >= 300) throw errorFromHttpResponse(await readResponse(stream));
    return { contentType: stream.contentType ?? 'application/octet-stream', body: stream.body, url: url.href, close: () => stream.close() };
  }
}

type PublicCall = { remainingMs: number; bodyTimeoutMs: number; maxBytes: number; signal: AbortSignal | undefined };

/** One GET off the gateway's origin through the guarded dispatcher: no key, no gateway lane, no redirects. */
async function openPublic(dispatcher: Dispatcher, url: URL, call: PublicCall): Promise<HttpStream> {
  if (call.signal?.aborted) throw abortReason(call.signal);
  const controller = new AbortController();
  let hasTimedOut = false;
  const timer = setTimeout(() => {
    hasTimedOut = true;
    controller.abort(new Error('total timeout'));
  }, call.remainingMs);
  const onAbort = (): void => controller.abort(call.signal?.reason);
  call.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = (): void => {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
  };
  const translate = (err: unknown): unknown => {
    if (call.signal?.aborted) return abortReason(call.signal);
    if (hasTimedOut) return new UpstreamError({ kind: 'retryable', message: `download from ${url.host} exceeded its timeout` }, { cause: err });
    if (hasCode(err, 'ERR_UNSAFE_URL')) {
      // the guard's own words ("refused: non-public address"); the resolved address stays in the logs
      return new UpstreamError({ kind: 'rejected', message: (unsafeOf(err)?.message ?? 'refused: non-public address') }, { cause: err });
    }
    const code = codeOf(err);
    return new UpstreamError({ kind: 'retryable', message: `download from ${url.host} failed${code ? ` (${code})` : ''}` }, { cause: err });
  };
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      dispatcher,
      method: 'GET',
      headers: { 'user-agent': 'genqueue-fetch/1' },
      signal: controller.signal,
      headersTimeout: call.remainingMs,
      bodyTimeout: call.bodyTimeoutMs,
    });
  } catch (err) {
    cleanup();
    throw translate(err);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const raw = res.body;
  raw.on('error', () => undefined);
  const discard = (): void => {
    cleanup();
    if (!raw.destroyed) raw.destroy();
  };
  const tooLarge = (): UpstreamError =>
    new UpstreamError({ kind: 'rejected', httpStatus: res.statusCode, message: `download from ${url.host}: larger than the limit of ${call.maxBytes} bytes` });
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > call.maxBytes && !(res.statusCode >= 300 && res.statusCode < 400)) {
    discard();
    throw tooLarge();
  }
  const head = { status: res.statusCode, headers, url, ...(headers['content-type'] !== undefined ? { contentType: headers['content-type'] } : {}) };
  return { ...head, ...cappedBody(raw, { maxBytes: call.maxBytes, tooLarge, translate, release: discard }) };
}

async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = err; e && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

const codeOf = (err: unknown): string | undefined =>
  causes(err)
    .map((e) => (e as { code?: unknown }).code)
    .find((c): c is string => typeof c === 'string');

const hasCode = (err: unknown, code: string): boolean => causes(err).some((e) => (e as { code?: unknown }).code === code);

const unsafeOf = (err: unknown): Error | undefined => causes(err).find((e): e is Error => (e as { code?: unknown }).code === 'ERR_UNSAFE_URL');

function parseHttpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpstreamError({ kind: 'rejected', message: 'download: not a valid URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UpstreamError({ kind: 'rejected', message: `download: unsupported URL scheme ${url.protocol}` });
  }
  return url;
}

async function checkAllowed(url: URL, assertUrlAllowed: DownloadOptions['assertUrlAllowed']): Promise<void> {
  if (!assertUrlAllowed) return;
  try {
    await assertUrlAllowed(url);
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new UpstreamError({ kind: 'rejected', message: `download: URL not allowed (${url.host}): ${reason}` }, { cause: err });
  }
}

/** Decodes `data:[<mediatype>][;base64],<data>` (RFC 2397) within the size cap. */
export function decodeDataUrl(url: string, maxBytes = Number.POSITIVE_INFINITY): DownloadResult {
  const comma = url.indexOf(',');
  if (comma === -1) throw new UpstreamError({ kind: 'rejected', message: 'download: malformed data: URL (no comma)' });
  const meta = url.slice(5, comma).trim();
  const isBase64 = /;base64$/i.test(meta);
  const mediaType = (isBase64 ? meta.slice(0, -';base64'.length) : meta).trim();
  const contentType = mediaType === '' ? 'text/plain;charset=US-ASCII' : mediaType.startsWith(';') ? `text/plain${mediaType}` : mediaType;
  const payload = url.slice(comma + 1);
  const tooLarge = (): UpstreamError => new UpstreamError({ kind: 'rejected', message: `download: data: URL exceeds the limit of ${maxBytes} bytes` });

  let bytes: Buffer;
  if (isBase64) {
    if (Math.floor((payload.length * 3) / 4) - 2 > maxBytes) throw tooLarge();
    const clean = /[\s%]/.test(payload) ? decodeURIComponentSafe(payload).replace(/\s+/g, '') : payload;
    bytes = Buffer.from(clean, 'base64');
    if (bytes.length === 0 && clean.length > 0) throw new UpstreamError({ kind: 'rejected', message: 'download: data: URL is not valid base64' });
  } else {
    bytes = percentDecode(payload);
  }
  if (bytes.length > maxBytes) throw tooLarge();
  return { contentType, bytes };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function percentDecode(value: string): Buffer {
  const out: number[] = [];
  const raw = Buffer.from(value, 'utf8');
  for (let i = 0; i < raw.length; i += 1) {
    const byte = raw[i] ?? 0;
    if (byte === 0x25 /* % */ && i + 2 < raw.length) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out.push(byte);
  }
  return Buffer.from(out);
}
