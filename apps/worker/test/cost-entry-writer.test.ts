import type { NewCostEntry } from '@genqueue/db';
import { CostEntryWriter } from '../src/costs/cost-entry-writer';

/** The ledger's writer: entries asked for while an insert is in flight share the next one; each caller gets its own answer. */
describe('CostEntryWriter', () => {
  const entry = (jobId: string, units = 1): NewCostEntry => ({ jobId, projectId: 'prj_1', jobType: 'media.chat', entryKey: 'usage:1', source: 'usage', units, chargedAt: new Date() });

  /** recordMany on a ledger of keys: true for a job not seen before; records each statement's jobs. */
  function fakeLedger(failOn?: string) {
    const seen = new Set<string>();
    const statements: string[][] = [];
    return {
      statements,
      recordMany: async (entries: readonly NewCostEntry[]): Promise<boolean[]> => {
        statements.push(entries.map((e) => e.jobId));
        await new Promise((resolve) => setImmediate(resolve));
        if (failOn && entries.some((e) => e.jobId === failOn)) throw new Error('statement failed');
        return entries.map((e) => (seen.has(e.jobId) ? false : (seen.add(e.jobId), true)));
      },
    };
  }

  it('sends entries of one turn together and those asked for meanwhile in the next statement', async () => {
    const ledger = fakeLedger();
    const writer = new CostEntryWriter(ledger);
    const first = [writer.record(entry('job_a')), writer.record(entry('job_b'))];
    await Promise.resolve();
    const meanwhile = [writer.record(entry('job_c')), writer.record(entry('job_a'))];
    expect(await Promise.all([...first, ...meanwhile])).toEqual([true, true, true, false]);
    expect(ledger.statements).toEqual([
      ['job_a', 'job_b'],
      ['job_c', 'job_a'],
    ]);
    expect(await writer.record(entry('job_d'))).toBe(true);
    expect(ledger.statements).toHaveLength(3);
  });

  it('with a linger, waits for the entries of later turns and sends them in one statement', async () => {
    jest.useFakeTimers();
    try {
      const ledger = fakeLedger();
      const writer = new CostEntryWriter(ledger, { lingerMs: 20 });
      const a = writer.record(entry('job_a'));
      await jest.advanceTimersByTimeAsync(5);
      const b = writer.record(entry('job_b'));
      await jest.advanceTimersByTimeAsync(10);
      // still waiting for company: nothing sent yet
      expect(ledger.statements).toEqual([]);
      await jest.advanceTimersByTimeAsync(10);
      expect(await Promise.all([a, b])).toEqual([true, true]);
      expect(ledger.statements).toEqual([['job_a', 'job_b']]);
      // the next entry waits its own linger
      const c = writer.record(entry('job_c'));
      await jest.advanceTimersByTimeAsync(19);
      expect(ledger.statements).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(5);
      expect(await c).toBe(true);
      expect(ledger.statements).toEqual([['job_a', 'job_b'], ['job_c']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails the callers of a failed statement only, and refuses an entry without a number of units alone', async () => {
    const ledger = fakeLedger('job_bad');
    const writer = new CostEntryWriter(ledger);
    const bad = writer.record(entry('job_bad'));
    const nan = writer.record(entry('job_nan', Number.NaN));
    await expect(bad).rejects.toThrow('statement failed');
    await expect(nan).rejects.toThrow(/not a number/);
    expect(await writer.record(entry('job_good'))).toBe(true);
    expect(ledger.statements).toEqual([['job_bad'], ['job_good']]);
  });
});
