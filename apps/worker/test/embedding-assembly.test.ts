import type { EmbeddingChunk } from '@genqueue/db';
import { parkBeforeAssembly } from '../src/embeddings/assembly-start';
import { settledChunks } from '../src/embeddings/settled-chunks';

/** When a parked batch starts assembling, and the order in which it takes its chunks while the last ones run. */
describe('embedding.batch assembly', () => {
  describe('parkBeforeAssembly', () => {
    const lane = { requestsPerMinute: 600, parkMs: 30_000 };

    it('starts once the chunks left are within the last fifth, whatever the total', () => {
      expect(parkBeforeAssembly({ total: 1000, finished: 800 }, lane)).toBe(0);
      expect(parkBeforeAssembly({ total: 1000, finished: 1000 }, lane)).toBe(0);
      expect(parkBeforeAssembly({ total: 1, finished: 0 }, lane)).toBe(0);
      expect(parkBeforeAssembly({ total: 40, finished: 32 }, lane)).toBe(0);
      expect(parkBeforeAssembly({ total: 40, finished: 31 }, lane)).toBeGreaterThan(0);
    });

    it('sleeps as long as the lane takes to reach the tail at its rate, between a second and the park interval', () => {
      // 100 chunks before the tail at 10 a second
      expect(parkBeforeAssembly({ total: 1000, finished: 700 }, lane)).toBe(10_000);
      expect(parkBeforeAssembly({ total: 1000, finished: 799 }, lane)).toBe(1_000);
      expect(parkBeforeAssembly({ total: 1000, finished: 0 }, lane)).toBe(30_000);
      expect(parkBeforeAssembly({ total: 1000, finished: 700 }, { ...lane, requestsPerMinute: 0 })).toBe(30_000);
    });
  });

  describe('settledChunks', () => {
    const row = (index: number, status: string): EmbeddingChunk => ({ index, status }) as EmbeddingChunk;

    /** Chunk rows whose statuses move on each time the caller looks at them (`timeline[n]` at look n, the last one after). */
    function movingRows(timeline: string[][]) {
      let looks = 0;
      return {
        get looks() {
          return looks;
        },
        listPage: async (_jobId: string, afterIndex: number, take: number): Promise<EmbeddingChunk[]> => {
          const statuses = timeline[Math.min(looks, timeline.length - 1)]!;
          looks += 1;
          return statuses
            .map((status, index) => row(index, status))
            .filter((r) => r.index > afterIndex)
            .slice(0, take);
        },
      };
    }

    it('yields every row once in index order, each when it is final, waiting on the first one still open', async () => {
      const rows = movingRows([
        ['succeeded', 'running', 'succeeded', 'pending'],
        ['succeeded', 'running', 'succeeded', 'running'],
        ['succeeded', 'failed', 'succeeded', 'running'],
        ['succeeded', 'failed', 'succeeded', 'canceled'],
      ]);
      const seen: Array<[number, string]> = [];
      for await (const chunk of settledChunks('job_x', rows, { pollMs: 1 })) seen.push([chunk.index, chunk.status]);
      expect(seen).toEqual([
        [0, 'succeeded'],
        [1, 'failed'],
        [2, 'succeeded'],
        [3, 'canceled'],
      ]);
      // the first look, one more per poll while chunk 1 or 3 ran, and one that found no further row
      expect(rows.looks).toBe(5);
    });

    it('runs its check while it waits on a chunk (a lost chunk put back), and not while rows come', async () => {
      // chunk 1 stays running until the check has run twice (the check put its lost job back, say)
      let checks = 0;
      const rows = {
        listPage: async (_jobId: string, afterIndex: number): Promise<EmbeddingChunk[]> =>
          [row(0, 'succeeded'), row(1, checks >= 2 ? 'succeeded' : 'running'), row(2, 'succeeded')].filter((r) => r.index > afterIndex),
      };
      const seen: number[] = [];
      const whileWaiting = { everyMs: 0, check: async () => void (checks += 1) };
      for await (const chunk of settledChunks('job_x', rows, { pollMs: 1, whileWaiting })) seen.push(chunk.index);
      expect(seen).toEqual([0, 1, 2]);
      expect(checks).toBe(2);

      // rows final at every look: no wait, no check
      const quiet = { everyMs: 0, check: jest.fn(async () => undefined) };
      const done = { listPage: async (_jobId: string, afterIndex: number) => [row(0, 'succeeded'), row(1, 'failed')].filter((r) => r.index > afterIndex) };
      for await (const chunk of settledChunks('job_x', done, { pollMs: 1, whileWaiting: quiet })) void chunk;
      expect(quiet.check).not.toHaveBeenCalled();
    });

    it('stops waiting when its signal aborts', async () => {
      const rows = movingRows([['succeeded', 'running']]);
      const controller = new AbortController();
      const seen: number[] = [];
      const run = (async () => {
        for await (const chunk of settledChunks('job_x', rows, { pollMs: 5, signal: controller.signal })) {
          seen.push(chunk.index);
          controller.abort(new Error('shutting down'));
        }
      })();
      await expect(run).rejects.toThrow();
      expect(seen).toEqual([0]);
    });
  });
});
