import type { ChunkCounts } from '@genqueue/db';

/**
 * The share of a batch's chunks still to finish when its assembly starts: the batch then copies the
 * finished chunks' results in order while the last ones run, and ends soon after the last one.
 */
const TAIL_SHARE = 0.2;
/** A batch woken early (the gateway slower than the lane's limit) sleeps at least this long again. */
const MIN_PARK_MS = 1_000;

/**
 * How long a batch parks before its assembly may start: 0 once the chunks left are within the tail,
 * else the time the lane takes to run the chunks before the tail at its request rate (at most `parkMs`;
 * the last chunk wakes the batch in any case).
 */
export function parkBeforeAssembly(counts: ChunkCounts, lane: { requestsPerMinute: number; parkMs: number }): number {
  const remaining = counts.total - counts.finished;
  const tail = Math.ceil(counts.total * TAIL_SHARE);
  if (remaining <= tail) return 0;
  const msPerChunk = 60_000 / Math.max(1, lane.requestsPerMinute);
  return Math.min(lane.parkMs, Math.max(MIN_PARK_MS, Math.round((remaining - tail) * msPerChunk)));
}
