import type { Random } from './random';

const MINUTE_MS = 60_000;

/**
 * When seeded jobs were created: more by day than by night, less at weekends, slowly growing over
 * the window. Times come out in order: the i-th of n jobs takes a point of the i-th of n equal
 * slices of the cumulative load, so batches are written oldest first.
 */
export class Timeline {
  private readonly cumulative: Float64Array;

  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {
    const minutes = Math.max(1, Math.ceil((toMs - fromMs) / MINUTE_MS));
    this.cumulative = new Float64Array(minutes);
    let sum = 0;
    for (let m = 0; m < minutes; m++) {
      const at = new Date(fromMs + m * MINUTE_MS);
      const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
      const daily = 1 + 0.7 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
      const weekly = at.getUTCDay() === 0 || at.getUTCDay() === 6 ? 0.7 : 1;
      const growth = 0.8 + (0.4 * m) / minutes;
      this.cumulative[m] = sum += daily * weekly * growth;
    }
  }

  /** The creation time of job `index` of `count`. */
  timeOf(index: number, count: number, random: Random): number {
    const target = ((index + random.next()) / count) * this.cumulative[this.cumulative.length - 1]!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    const before = lo === 0 ? 0 : this.cumulative[lo - 1]!;
    const within = (target - before) / (this.cumulative[lo]! - before);
    return Math.min(this.toMs - 1, Math.floor(this.fromMs + (lo + within) * MINUTE_MS));
  }
}
