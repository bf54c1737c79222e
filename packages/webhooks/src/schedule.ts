/** Delivery policy of api.md: timeouts, the retry schedule, when an endpoint is given up. */

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Delays before the 2nd, 3rd, … attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; a delivery whose
 * last scheduled retry fails too is `failed` (8 attempts in all, spread over about 27.6 h).
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5 * SECOND_MS,
  5 * MINUTE_MS,
  30 * MINUTE_MS,
  2 * HOUR_MS,
  5 * HOUR_MS,
  10 * HOUR_MS,
  10 * HOUR_MS,
]);

/** One attempt may take this long, connect to last byte read. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** At most this much of a receiver's answer is read and stored with the attempt. */
export const WEBHOOK_MAX_RESPONSE_BYTES = 4096;
/** An endpoint failing every delivery for this long is disabled. */
export const ENDPOINT_DISABLE_AFTER_MS = 5 * 24 * HOUR_MS;
/** `job.progress` is delivered at most once per job in this interval. */
export const PROGRESS_WEBHOOK_MIN_INTERVAL_MS = 5 * SECOND_MS;

/**
 * Milliseconds to wait before the next attempt, given how many attempts have been made so far
 * (1 after the first attempt failed); null when the schedule is exhausted and the delivery is failed.
 */
export function nextAttemptDelayMs(attemptsMade: number, schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a positive integer, got ${attemptsMade}`);
  }
  return schedule[attemptsMade - 1] ?? null;
}

/** How many attempts a delivery gets in all with `schedule`. */
export function maxAttempts(schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS): number {
  return schedule.length + 1;
}

/**
 * Parses a schedule setting such as `WEBHOOK_RETRY_SCHEDULE_MS=100,200,400` (milliseconds, comma
 * separated; an empty string means no retries). Throws a RangeError naming the bad entry.
 */
export function parseRetryScheduleMs(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((part, index) => {
    const entry = part.trim();
    if (!/^\d+$/.test(entry)) {
      throw new RangeError(`retry schedule entry ${index + 1} ("${entry}") is not a whole number of milliseconds`);
    }
    return Number(entry);
  });
}

/** True when an endpoint that has failed since `failingSince` should be disabled at `now`. */
export function shouldDisableEndpoint(failingSince: Date | null, now: Date = new Date(), afterMs = ENDPOINT_DISABLE_AFTER_MS): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= afterMs;
}
