import { GroupCommit, RUN_ALONE } from '../src/group-commit';

type Call = { key: string; value: number };

/** A GroupCommit whose statements are recorded; `failBatchWith` fails a batch holding that value. */
function recorder(
  options: { failBatchWith?: number; leaveAlone?: number; maxBatch?: number; maxInFlight?: number; lingerMs?: number; holdOne?: Promise<void>; holdBatches?: Promise<void> } = {},
) {
  const batches: number[][] = [];
  const alone: number[] = [];
  const group = new GroupCommit<Call, string>({
    runBatch: async (calls) => {
      batches.push(calls.map((c) => c.value));
      await (options.holdBatches ?? Promise.resolve());
      if (calls.some((c) => c.value === options.failBatchWith)) throw new Error('batch refused');
      return calls.map((c) => (c.value === options.leaveAlone ? RUN_ALONE : `batch:${c.value}`));
    },
    runOne: async (call) => {
      alone.push(call.value);
      if (call.value === options.leaveAlone && options.holdOne) await options.holdOne;
      if (call.value === options.failBatchWith) throw new Error(`call ${call.value} refused`);
      return `one:${call.value}`;
    },
    maxBatch: options.maxBatch ?? 100,
    ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
    ...(options.lingerMs ? { lingerMs: options.lingerMs } : {}),
    keyOf: (call) => call.key,
  });
  return { group, batches, alone };
}

describe('GroupCommit', () => {
  it('with a linger, holds a partial batch for the calls of later turns, and sends a full one at once', async () => {
    jest.useFakeTimers();
    try {
      const { group, batches } = recorder({ lingerMs: 20, maxBatch: 3 });
      const early = group.run({ key: 'a', value: 1 });
      await jest.advanceTimersByTimeAsync(10);
      const later = group.run({ key: 'b', value: 2 });
      await jest.advanceTimersByTimeAsync(5);
      expect(batches).toEqual([]);
      await jest.advanceTimersByTimeAsync(5);
      expect(await Promise.all([early, later])).toEqual(['batch:1', 'batch:2']);
      expect(batches).toEqual([[1, 2]]);
      // three calls fill a batch: it does not wait
      const full = [3, 4, 5].map((value) => group.run({ key: `k${value}`, value }));
      await jest.advanceTimersByTimeAsync(0);
      expect(batches).toEqual([[1, 2], [3, 4, 5]]);
      await Promise.all(full);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs a lone call at once, as a batch of one; its failure is its own, not tried again', async () => {
    const { group, batches, alone } = recorder({ failBatchWith: 2 });
    expect(await group.run({ key: 'a', value: 1 })).toBe('batch:1');
    await expect(group.run({ key: 'b', value: 2 })).rejects.toThrow('batch refused');
    expect(batches).toEqual([[1], [2]]);
    expect(alone).toEqual([]);
  });

  it('puts the calls made while a statement is in flight into the next statement, each caller getting its own answer', async () => {
    const { group, batches, alone } = recorder();
    const first = group.run({ key: 'a', value: 1 });
    const second = group.run({ key: 'b', value: 2 });
    const third = group.run({ key: 'c', value: 3 });
    expect(await Promise.all([first, second, third])).toEqual(['batch:1', 'batch:2', 'batch:3']);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(alone).toEqual([]);
    // a lone call in flight: calls made meanwhile wait for it, then go together
    const lone = group.run({ key: 'd', value: 4 });
    await Promise.resolve();
    const later = [5, 6].map((value) => group.run({ key: `k${value}`, value }));
    expect(await Promise.all([lone, ...later])).toEqual(['batch:4', 'batch:5', 'batch:6']);
    expect(batches).toEqual([[1, 2, 3], [4], [5, 6]]);
  });

  it('keeps two calls of one key out of the same statement, and keeps to the batch size', async () => {
    const { group, batches } = recorder({ maxBatch: 2 });
    const answers = await Promise.all([
      group.run({ key: 'a', value: 1 }),
      group.run({ key: 'a', value: 2 }),
      group.run({ key: 'b', value: 3 }),
      group.run({ key: 'c', value: 4 }),
    ]);
    expect(answers).toEqual(['batch:1', 'batch:2', 'batch:3', 'batch:4']);
    // the second call of key a waits for the next statement; the first is full at two
    expect(batches).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('tries a failed batch call by call: only the bad call fails', async () => {
    const { group, batches, alone } = recorder({ failBatchWith: 2 });
    const results = await Promise.allSettled([1, 2, 3].map((value) => group.run({ key: `k${value}`, value })));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(alone.sort()).toEqual([1, 2, 3]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['one:1', 'call 2 refused', 'one:3']);
  });

  it('runs a call the batch left alone beside the next batches, not in their way', async () => {
    let release!: () => void;
    const holdOne = new Promise<void>((resolve) => (release = resolve));
    const { group, batches, alone } = recorder({ leaveAlone: 2, holdOne });
    const first = [1, 2, 3].map((value) => group.run({ key: `k${value}`, value }));
    // 2 was left alone (its row held elsewhere) and waits; the others are answered meanwhile
    expect(await Promise.all([first[0], first[2]])).toEqual(['batch:1', 'batch:3']);
    const next = [4, 5].map((value) => group.run({ key: `k${value}`, value }));
    expect(await Promise.all(next)).toEqual(['batch:4', 'batch:5']);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    release();
    expect(await first[1]).toBe('one:2');
    expect(alone).toEqual([2]);
  });

  it('starts a statement at once while fewer than maxInFlight are in flight, and groups the calls made once they are', async () => {
    let release!: () => void;
    const holdBatches = new Promise<void>((resolve) => (release = resolve));
    const { group, batches } = recorder({ maxInFlight: 2, holdBatches });
    const first = group.run({ key: 'a', value: 1 });
    await Promise.resolve();
    const second = group.run({ key: 'b', value: 2 });
    await Promise.resolve();
    // two statements in flight, each started at once; the calls made now wait for one of them
    expect(batches).toEqual([[1], [2]]);
    const later = [3, 4, 5].map((value) => group.run({ key: `k${value}`, value }));
    await Promise.resolve();
    expect(batches).toEqual([[1], [2]]);
    release();
    expect(await Promise.all([first, second, ...later])).toEqual(['batch:1', 'batch:2', 'batch:3', 'batch:4', 'batch:5']);
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
  });

  it('resolves the callers of a batch whose answers are undefined (a void statement), running nothing again', async () => {
    let batches = 0;
    let alone = 0;
    const group = new GroupCommit<number, void>({
      runBatch: async (calls) => ((batches += 1), calls.map(() => undefined)),
      runOne: async () => void (alone += 1),
      maxBatch: 10,
    });
    await Promise.all([1, 2, 3].map((n) => group.run(n)));
    expect({ batches, alone }).toEqual({ batches: 1, alone: 0 });
  });

  it('without a runOne, tries each call of a failed batch as a batch of one', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, string>({
      runBatch: async (calls) => {
        batches.push([...calls]);
        if (calls.includes(2)) throw new Error('refused');
        return calls.map((n) => `ok:${n}`);
      },
      maxBatch: 10,
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.run(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual(['ok:1', 'rejected', 'ok:3']);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});
