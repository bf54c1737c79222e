/**
 * The gateway only learns about a task when its background loop polls the upstream (§12): every
 * `tickMs`, on a grid `originMs + k·tickMs`. Everything a client sees is derived from the grid
 * and the submit time, lazily and in O(1), so thousands of tasks need no timers.
 */
export type PollGrid = { originMs: number; tickMs: number };

const index = (grid: PollGrid, atMs: number): number => Math.floor((atMs - grid.originMs) / grid.tickMs);

/** Time of the k-th grid point. */
export const gridPoint = (grid: PollGrid, k: number): number => grid.originMs + k * grid.tickMs;

/** How many gateway polls happened in (sinceMs, atMs]. */
export function pollsBetween(grid: PollGrid, sinceMs: number, atMs: number): number {
  return atMs <= sinceMs ? 0 : Math.max(0, index(grid, atMs) - index(grid, sinceMs));
}

/** Time of the n-th poll (n ≥ 1) after `sinceMs`. */
export function nthPollAfter(grid: PollGrid, sinceMs: number, n: number): number {
  return gridPoint(grid, index(grid, sinceMs) + n);
}

/** The latest poll in (sinceMs, atMs], or null. */
export function lastPollBetween(grid: PollGrid, sinceMs: number, atMs: number): number | null {
  return pollsBetween(grid, sinceMs, atMs) === 0 ? null : gridPoint(grid, index(grid, atMs));
}

/** The first poll after `sinceMs` that is the `minN`-th or later and happens at or after `targetMs`. */
export function firstPollAtOrAfter(grid: PollGrid, sinceMs: number, targetMs: number, minN = 1): { n: number; atMs: number } {
  const first = index(grid, sinceMs) + 1;
  const k = Math.max(first + minN - 1, Math.ceil((targetMs - grid.originMs) / grid.tickMs));
  return { n: k - first + 1, atMs: gridPoint(grid, k) };
}
