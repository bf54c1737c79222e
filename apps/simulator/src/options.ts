import type { RouteKey } from './route-keys';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './tasks/task-options';

export type WindowLimit = { max: number; windowSec: number };

export type SimulatorOptions = {
  /** When set, only this key is accepted on relay routes; otherwise any `sk-…` key. */
  apiKey?: string;
  /** Divide simulated durations by `timeFactor` (default 60). */
  fastTime?: boolean;
  timeFactor?: number;
  /** Clock source in ms; tests override it to move time without sleeping. */
  now?: () => number;
  /** Feeds every generated id so runs are repeatable. */
  seed?: string;
  /** Value of `X-New-Api-Version`. */
  version?: string;
  /** Base URL used in blob links; default: taken from the request's Host header. */
  publicUrl?: string;
  /** A prompt containing one of these (case-insensitive) is refused. */
  bannedWords?: string[];
  /** Lifetime of signed image URLs (dall-e style), before fast-time scaling. */
  blobUrlTtlSec?: number;
  signingSecret?: string;
  /** Edge of the square PNGs the simulator renders. */
  imagePx?: number;
  /** Token grant in quota units (500 000 units = US$1). */
  quotaGranted?: number;
  /** Quota units charged per generated image (dall-e style; gpt-image is billed by its usage tokens). */
  imageCostQuota?: number;
  /** Quota units charged per speech or transcription call (their answers carry no usage). */
  audioCostQuota?: number;
  /** Sliding one-minute window per route key; over the limit → 429 with an empty body. */
  requestsPerMinute?: Partial<Record<RouteKey, number>>;
  /** The gateway's CriticalRateLimit on `/api/usage/token/` (20 per 20 min per IP); null = off. */
  usageTokenLimit?: WindowLimit | null;
  /** The gateway's GlobalAPIRateLimit on `/api`, `/dashboard`, `/v1/dashboard` (180 per 180 s per IP). */
  globalApiLimit?: WindowLimit | null;
  /** Emit `: PING` comments in SSE streams (between steps). */
  ssePing?: boolean;
  /** Pause between progress steps of streamed answers, before fast-time scaling. */
  streamStepMs?: number;
  /** Name reported by the token-usage route. */
  tokenName?: string;
  /** Video and Midjourney task timing and variants (`src/tasks/task-options.ts`). */
  tasks?: TaskOptions;
};

export type ResolvedOptions = {
  apiKey: string | null;
  seed: string;
  version: string;
  publicUrl: string | null;
  bannedWords: string[];
  blobUrlTtlSec: number;
  signingSecret: string;
  imagePx: number;
  quotaGranted: number;
  imageCostQuota: number;
  audioCostQuota: number;
  requestsPerMinute: Partial<Record<RouteKey, number>>;
  usageTokenLimit: WindowLimit | null;
  globalApiLimit: WindowLimit | null;
  ssePing: boolean;
  streamStepMs: number;
  tokenName: string;
  tasks: ResolvedTaskOptions;
};

export const DEFAULT_BANNED_WORDS = ['forbidden', '违禁'];

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  return {
    apiKey: options.apiKey ?? null,
    seed: options.seed ?? 'genqueue-simulator',
    version: options.version ?? 'v0.9.0-sim',
    publicUrl: options.publicUrl?.replace(/\/+$/, '') ?? null,
    bannedWords: [...(options.bannedWords ?? DEFAULT_BANNED_WORDS)],
    blobUrlTtlSec: options.blobUrlTtlSec ?? 3600,
    signingSecret: options.signingSecret ?? 'genqueue-simulator-blob-secret',
    imagePx: options.imagePx ?? 64,
    quotaGranted: options.quotaGranted ?? 10_000_000,
    imageCostQuota: options.imageCostQuota ?? 20_000,
    audioCostQuota: options.audioCostQuota ?? 5_000,
    requestsPerMinute: { ...options.requestsPerMinute },
    usageTokenLimit: options.usageTokenLimit === undefined ? { max: 20, windowSec: 1200 } : options.usageTokenLimit,
    globalApiLimit: options.globalApiLimit === undefined ? { max: 180, windowSec: 180 } : options.globalApiLimit,
    ssePing: options.ssePing ?? false,
    streamStepMs: options.streamStepMs ?? 250,
    tokenName: options.tokenName ?? 'sim-token',
    tasks: resolveTaskOptions(options.tasks),
  };
}
