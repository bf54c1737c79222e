import { GroupCommit } from '@genqueue/core';
import type { CostsRepository, NewCostEntry } from '@genqueue/db';

/** Most entries in one insert statement. */
const MAX_BATCH = 200;

/**
 * Writes ledger entries a statement at a time (GroupCommit, one in flight): entries asked for while
 * one insert is in flight go together in the next one. Each caller still awaits its own row (true
 * when inserted, false when its key was already there); a failed statement fails its callers only
 * (those of a batch of several are tried again one by one).
 *
 * With `lingerMs`, each statement also waits that long for company before it goes: a ledger entry is
 * off its job's path (the job has ended), so under load one insert and one commit carry the entries
 * of many jobs instead of a few.
 */
export class CostEntryWriter {
  private readonly inserts: GroupCommit<NewCostEntry, boolean>;

  constructor(costs: Pick<CostsRepository, 'recordMany'>, options: { lingerMs?: number } = {}) {
    this.inserts = new GroupCommit<NewCostEntry, boolean>({
      runBatch: async (entries) => (await costs.recordMany(entries)).map((inserted) => inserted ?? false),
      maxBatch: MAX_BATCH,
      ...(options.lingerMs ? { lingerMs: options.lingerMs } : {}),
    });
  }

  record(entry: NewCostEntry): Promise<boolean> {
    // a bad entry is refused here, so it cannot fail the statement of the others
    if (!Number.isFinite(entry.units)) return Promise.reject(new Error(`cost entry ${entry.jobId}/${entry.entryKey}: units ${entry.units} is not a number`));
    return this.inserts.run(entry);
  }
}
