import type { CostsRepository, NewCostEntry } from '@genqueue/db';

/** Most entries in one insert statement. */
const MAX_BATCH = 200;

type Waiting = { entry: NewCostEntry; resolve: (inserted: boolean) => void; reject: (err: unknown) => void };

/**
 * Writes ledger entries a statement at a time: entries asked for while one insert is in flight go
 * together in the next one. Each caller still awaits its own row (true when inserted, false when its
 * key was already there); a failed statement fails the callers of that statement only.
 *
 * With `lingerMs`, each statement also waits that long for company before it goes: a ledger entry is
 * off its job's path (the job has ended), so under load one insert and one commit carry the entries
 * of many jobs instead of a few.
 */
export class CostEntryWriter {
  private waiting: Waiting[] = [];
  private draining = false;

  constructor(
    private readonly costs: Pick<CostsRepository, 'recordMany'>,
    private readonly options: { lingerMs?: number } = {},
  ) {}

  record(entry: NewCostEntry): Promise<boolean> {
    // a bad entry is refused here, so it cannot fail the statement of the others
    if (!Number.isFinite(entry.units)) return Promise.reject(new Error(`cost entry ${entry.jobId}/${entry.entryKey}: units ${entry.units} is not a number`));
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // entries asked for in the same turn (or within the linger) join the first statement too
        void this.pause().then(() => this.drain());
      }
    });
  }

  private pause(): Promise<void> {
    const lingerMs = this.options.lingerMs ?? 0;
    return lingerMs > 0 ? new Promise((resolve) => setTimeout(resolve, lingerMs)) : Promise.resolve();
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
      // a full batch is followed at once; a partial one waits for company again
      if (this.waiting.length > 0 && this.waiting.length < MAX_BATCH) await this.pause();
    }
    this.draining = false;
  }
}
