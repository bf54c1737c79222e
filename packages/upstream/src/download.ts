import { classifyUpstreamFailure, UpstreamError } from './errors';
import { errorFromHttpResponse, readResponse, type UpstreamHttp } from './http';

/**
 * Fetches a result URL (image, video) before it expires. `data:` URLs are decoded locally.
 * Redirects are followed by hand so each hop passes the URL guard and the API key only goes to
 * the gateway's own origin.
 */

export interface DownloadOptions {
  /** Defaults to the client's `maxResponseBytes`. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Whole download, all redirects included. Defaults to the client's `imageMs`. */
  timeoutMs?: number;
  /** Called for every URL before it is fetched (SSRF guard); a throw stops the download. */
  assertUrlAllowed?: (url: URL) => Promise<void>;
}

export interface DownloadResult {
  contentType: string;
  bytes: Buffer;
  /** Final URL after redirects (the `data:` URL itself is not echoed back). */
  url?: string;
}

const MAX_REDIRECTS = 5;

export async function download(http: UpstreamHttp, rawUrl: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const maxBytes = options.maxBytes ?? http.maxResponseBytes;
  if (/^data:/i.test(rawUrl)) return decodeDataUrl(rawUrl, maxBytes);

  const timeoutMs = options.timeoutMs ?? http.timeouts.imageMs;
  const deadline = Date.now() + timeoutMs;
  let url = parseHttpUrl(rawUrl);
  for (let hop = 0; ; hop += 1) {
    await checkAllowed(url, options.assertUrlAllowed);
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new UpstreamError({ kind: 'retryable', message: `download exceeded the total timeout of ${timeoutMs} ms` });
    }
    const stream = await http.stream({
      method: 'GET',
      path: url.href,
      maxRedirects: 0,
      timeoutMs: remainingMs,
      headersTimeoutMs: remainingMs,
      bodyTimeoutMs: Math.min(remainingMs, http.timeouts.smallMs),
      maxResponseBytes: maxBytes,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
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
      const failure = http.isGatewayOrigin(url) ? classifyUpstreamFailure({ status: res.status, bodyText: res.bodyText() }) : undefined;
      throw new UpstreamError({
        ...(failure ?? {}),
        kind: 'not_found',
        httpStatus: res.status,
        ...(res.requestId !== undefined ? { requestId: res.requestId } : {}),
        message: `result URL expired or no longer available (HTTP ${res.status} from ${url.host})`,
      });
    }
    if (stream.status < 200 || stream.status >= 300) throw errorFromHttpResponse(await readResponse(stream));
    const bytes = await stream.readAll();
    return { contentType: stream.contentType ?? 'application/octet-stream', bytes, url: url.href };
  }
}

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
