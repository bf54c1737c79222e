import type { CostsRepository, NewCostEntry } from '@genqueue/db';

/** Most entries in one insert statement. */
const MAX_BATCH = 200;

type Waiting = { entry: NewCostEntry; resolve: (inserted: boolean) => void; reject: (err: unknown) => void };

/**
 * Writes ledger entries a statement at a time: entries asked for while one insert is in flight go
 * together in the next one. Each caller still awaits its own row (true when inserted, false when its
 * key was already there); a failed statement fails the callers of that statement only.
 */
export class CostEntryWriter {
  private waiting: Waiting[] = [];
  private draining = false;

  constructor(private readonly costs: Pick<CostsRepository, 'recordMany'>) {}

  record(entry: NewCostEntry): Promise<boolean> {
    // a bad entry is refused here, so it cannot fail the statement of the others
    if (!Number.isFinite(entry.units)) return Promise.reject(new Error(`cost entry ${entry.jobId}/${entry.entryKey}: units ${entry.units} is not a number`));
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // entries asked for in the same turn join the first statement too
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      try {
        const inserted = await this.costs.recordMany(batch.map((w) => w.entry));
        batch.forEach((w, i) => w.resolve(inserted[i] ?? false));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.draining = false;
  }
}
