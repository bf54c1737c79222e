import { MediaInputError } from './media-errors';

/** How much media a job may pull in. */
export type MediaLimits = {
  /** one input, link or download */
  objectMaxBytes: number;
  /** everything one run of a job reads or stores through the media layer (MEDIA_JOB_MAX_BYTES) */
  jobMaxBytes: number;
  /** links of one media.chat answer that are downloaded (MEDIA_CHAT_MAX_LINKS) */
  chatMaxLinks: number;
};

export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = {
  objectMaxBytes: 64 * 1024 * 1024,
  jobMaxBytes: 256 * 1024 * 1024,
  chatMaxLinks: 8,
};

export function mediaLimitsFrom(settings: { MEDIA_JOB_MAX_BYTES: number; MEDIA_CHAT_MAX_LINKS: number }): MediaLimits {
  return { ...DEFAULT_MEDIA_LIMITS, jobMaxBytes: settings.MEDIA_JOB_MAX_BYTES, chatMaxLinks: settings.MEDIA_CHAT_MAX_LINKS };
}

export class MediaBudgetError extends MediaInputError {
  constructor(jobMaxBytes: number) {
    super(`the job's media is over its budget of ${jobMaxBytes} bytes (MEDIA_JOB_MAX_BYTES)`);
  }
}

// Bytes used per job run. A run's AbortSignal is its identity (the resolver and the writer both
// see it, a retry gets a new one) and the entry goes with it, so nothing needs clearing.
const usedByRun = new WeakMap<AbortSignal, number>();

/** The bytes one more object may have: the object cap, or less when the run's budget is nearly spent. */
export function roomFor(limits: MediaLimits, run: AbortSignal | undefined): number {
  const used = run ? (usedByRun.get(run) ?? 0) : 0;
  return Math.max(0, Math.min(limits.objectMaxBytes, limits.jobMaxBytes - used));
}

/** Counts `bytes` against the run's budget; over it, a MediaBudgetError. */
export function charge(limits: MediaLimits, run: AbortSignal | undefined, bytes: number): void {
  if (!run) return;
  const used = (usedByRun.get(run) ?? 0) + bytes;
  usedByRun.set(run, used);
  if (used > limits.jobMaxBytes) throw new MediaBudgetError(limits.jobMaxBytes);
}

/** True when `cap` was set by the run's budget rather than the object cap. */
export const isBudgetBound = (limits: MediaLimits, cap: number): boolean => cap < limits.objectMaxBytes;
