import v8 from 'node:v8';

/**
 * How far V8 may grow the old generation past its live size while a batch is split or assembled:
 * a factor of 1 + this / 100 (V8's own memory-constrained setting is 2).
 *
 * Those phases allocate fast (a million inputs read, cut and copied in seconds), and V8, seeing its
 * collections cost almost nothing, lets the old generation grow to four times the live heap before it
 * collects: `bench:embeddings` at a million inputs took the worker from 142 MB to over 300 MB of
 * RSS with under 50 MB of it live. Capped, the same run peaks near 215 MB for about a tenth more CPU.
 * Elsewhere (image jobs at saturation) the cap cost a quarter of the worker's CPU, so it holds only
 * while a split or an assembly runs.
 */
const BATCH_HEAP_GROWING_PERCENT = 100;

let running = 0;

/** Runs `work` with the old generation's growth capped (see above); V8's own policy returns after the last one ends. */
export async function withBoundedHeapGrowth<T>(work: () => Promise<T>): Promise<T> {
  if (running === 0) v8.setFlagsFromString(`--heap-growing-percent=${BATCH_HEAP_GROWING_PERCENT}`);
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    // 0: V8 chooses the factor itself again
    if (running === 0) v8.setFlagsFromString('--heap-growing-percent=0');
  }
}
