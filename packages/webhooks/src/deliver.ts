import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import { WEBHOOK_MAX_RESPONSE_BYTES, WEBHOOK_TIMEOUT_MS } from './schedule';
import { findUnsafeUrlError } from './ssrf-guard';

export type SendWebhookInput = {
  url: string | URL;
  headers: Record<string, string>;
  body: string;
  /** Whole attempt: connect, send, headers, and reading the (capped) answer. */
  timeoutMs?: number;
  /** At most this much of the answer is read and returned. */
  maxResponseBytes?: number;
  /** Pass the guarded dispatcher (`createGuardedDispatcher`) outside tests. */
  dispatcher?: Dispatcher;
};

/** One attempt, as recorded. */
export type SendResult = {
  /** null when no answer came (connect error, timeout, refused by the SSRF guard). */
  statusCode: number | null;
  durationMs: number;
  /** why no (complete) answer came; null when one did, whatever its status */
  error: string | null;
  /** the first `maxResponseBytes` of the answer, as text; null when no answer came */
  responseBody: string | null;
};

export type AttemptOutcome = 'delivered' | 'gone' | 'retry';

const MAX_ERROR_CHARS = 500;

class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof AttemptTimeoutError) return `timeout: no complete answer within ${timeoutMs} ms`;
  // The receiver's owner reads this: the guard's generic words, never what the name resolved to.
  const unsafe = findUnsafeUrlError(err);
  if (unsafe) return unsafe.message;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

/** Reads at most `maxBytes` of a body, then drops the rest of it without reading it. */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    const room = maxBytes - total;
    chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
    total += Math.min(buf.length, room);
    if (total >= maxBytes) break;
  }
  if (!body.destroyed) body.destroy();
  // Postgres text cannot hold NUL; a cut may split a character, which decodes to U+FFFD.
  return Buffer.concat(chunks).toString('utf8').replaceAll('\u0000', '');
}

/**
 * POSTs one webhook. Never throws for network trouble: no answer in time, a refused connection or
 * an address refused by the SSRF guard come back as `error` with `statusCode: null`. Redirects are
 * never followed: a 3xx is an answer like any other (and not a success).
 */
export async function sendWebhook(input: SendWebhookInput): Promise<SendResult> {
  const timeoutMs = input.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const maxResponseBytes = input.maxResponseBytes ?? WEBHOOK_MAX_RESPONSE_BYTES;
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new AttemptTimeoutError()), timeoutMs);
  try {
    const options = {
      method: 'POST' as const,
      headers: { 'user-agent': 'genqueue-webhooks/1', ...input.headers },
      body: input.body,
      signal: controller.signal,
      // undici 7 follows no redirect unless a redirect interceptor is composed in; 0 turns that off too.
      maxRedirections: 0,
      ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}),
    };
    const response = await request(input.url, options);
    let responseBody = '';
    let bodyError: string | null = null;
    try {
      responseBody = await readCapped(response.body, maxResponseBytes);
    } catch (err) {
      // The status is known; a body cut short by the timeout or a reset is noted but changes nothing.
      response.body.destroy();
      bodyError = describeError(controller.signal.aborted ? controller.signal.reason : err, timeoutMs);
    }
    return { statusCode: response.statusCode, durationMs: elapsed(), error: bodyError, responseBody };
  } catch (err) {
    const reason = controller.signal.aborted ? controller.signal.reason : err;
    return { statusCode: null, durationMs: elapsed(), error: describeError(reason, timeoutMs), responseBody: null };
  } finally {
    clearTimeout(timer);
  }
}

/** 2xx: delivered. 410: the receiver is gone for good (disable the endpoint). Anything else: retry. */
export function classifyAttempt(result: Pick<SendResult, 'statusCode'>): AttemptOutcome {
  const code = result.statusCode;
  if (code === null) return 'retry';
  if (code >= 200 && code < 300) return 'delivered';
  if (code === 410) return 'gone';
  return 'retry';
}
