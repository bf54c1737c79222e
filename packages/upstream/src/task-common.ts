import { UpstreamError } from './errors';
import type { CallOptions } from './http';
import { asNumber } from './lenient';

/**
 * Shared pieces of the task families (videos, Midjourney). Time limits follow what new-api allows
 * itself towards its upstreams (docs/gateway.md §1.5): MJ submit 60 s, polls 15 s.
 */
export interface TaskTimeouts {
  /** Submit calls (`POST /v1/videos`, `/mj/submit/*`): whole call. */
  submitMs: number;
  /** Status reads (`GET /v1/videos/{id}`, MJ fetch and list-by-condition): whole call. */
  pollMs: number;
}

export const DEFAULT_TASK_TIMEOUTS: Readonly<TaskTimeouts> = { submitMs: 60_000, pollMs: 15_000 };

/** `timeoutMs` from the caller, else the default; `long` keeps the header timeout as long as the whole call. */
export function withTimeout(options: CallOptions, timeoutMs: number): CallOptions {
  return { ...options, timeoutMs: options.timeoutMs ?? timeoutMs };
}

/** Parses progress given as `45`, `"45%"`, `"45"` or `""` into 0–100 (anything unreadable is 0). */
export function parseProgress(value: unknown): number {
  const text = typeof value === 'string' ? value.trim().replace(/%$/, '').trim() : value;
  const n = asNumber(text);
  if (n === undefined) return 0;
  return Math.min(100, Math.max(0, Math.round(n)));
}

/** A Unix timestamp in seconds or milliseconds (values above 1e12 are ms, §8.1); 0, null and junk are absent. */
export function timestampToDate(value: unknown): Date | undefined {
  const n = asNumber(value);
  if (n === undefined || n <= 0) return undefined;
  return new Date(n > 1e12 ? n : n * 1000);
}

/**
 * The gateway's own timeout texts (`任务超时（1440分钟）` for videos, `上游任务超时（超过1小时）` for MJ).
 * These are the only failures recognised by their text: the gateway gives no code for them.
 */
export function isGatewayTimeoutText(message: string | undefined): boolean {
  return message !== undefined && /任务超时|timed?[ _-]?out/i.test(message);
}

/** Copy of an UpstreamError with another kind (the gateway overloads some codes per route). */
export function withKind(error: UpstreamError, kind: UpstreamError['kind'], message?: string): UpstreamError {
  return new UpstreamError(
    {
      kind,
      message: message ?? error.message,
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
      ...(error.upstreamCode !== undefined ? { upstreamCode: error.upstreamCode } : {}),
      ...(error.upstreamType !== undefined ? { upstreamType: error.upstreamType } : {}),
      ...(error.upstreamMessage !== undefined ? { upstreamMessage: error.upstreamMessage } : {}),
      ...(error.requestId !== undefined ? { requestId: error.requestId } : {}),
    },
    { cause: error },
  );
}

/** `data:<type>;base64,<…>`: how MJ submits carry images (`base64Array`, `base64`, `maskBase64`). */
export const toDataUrl = (contentType: string, data: Buffer): string => `data:${contentType};base64,${data.toString('base64')}`;
