/** When a parked task job wakes next. Pure, so the cadence is unit-tested without a clock. */
export type PollSchedule = { minMs: number; maxMs: number };

/**
 * Early polls come soon (a fast task, or `task_not_exist` insert lag), then the cadence backs off
 * to `maxMs` (the gateway refreshes its own rows every 15 s, polling faster buys nothing):
 * a quarter of the time since submit, clamped, ±20 % jitter so parked jobs do not wake in lockstep.
 */
export function nextPollDelay(schedule: PollSchedule, sinceSubmitMs: number, random: () => number = Math.random): number {
  const base = Math.min(schedule.maxMs, Math.max(schedule.minMs, sinceSubmitMs / 4));
  return Math.max(1, Math.round(base * (0.8 + random() * 0.4)));
}

/** After a failed call (429, 5xx, network): doubles per consecutive error, up to 4× the max cadence. */
export function errorBackoffDelay(schedule: PollSchedule, consecutiveErrors: number, random: () => number = Math.random): number {
  const base = Math.min(schedule.maxMs * 4, schedule.minMs * 2 ** Math.max(0, consecutiveErrors));
  return Math.max(1, Math.round(base * (0.8 + random() * 0.4)));
}
