import { ChunkPlanner, type PlannedChunk } from '../src/embeddings/chunk-planner';

/** Every chunk a planner cuts from `texts` (one line per input, as the split writes them). */
function plan(planner: ChunkPlanner, texts: string[]): PlannedChunk[] {
  const chunks: PlannedChunk[] = [];
  for (const text of texts) {
    const closed = planner.push(`${JSON.stringify({ input: text })}\n`, text);
    if (closed) chunks.push(closed);
  }
  const last = planner.finish();
  if (last) chunks.push(last);
  return chunks;
}

describe('ChunkPlanner', () => {
  it('cuts inputs into chunks of at most chunkSize, each its lines as UTF-8 bytes in order', () => {
    const texts = Array.from({ length: 2_500 }, (_, n) => `input ${n} — ünïcode ${'x'.repeat(n % 50)}`);
    const chunks = plan(new ChunkPlanner('text-embedding-3-small', 1_000), texts);
    expect(chunks.map((c) => [c.index, c.firstInput, c.inputCount])).toEqual([
      [0, 0, 1_000],
      [1, 1_000, 1_000],
      [2, 2_000, 500],
    ]);
    // the bytes of each chunk are exactly its lines, whatever the buffer held before (it is reused)
    for (const chunk of chunks) {
      const lines = texts.slice(chunk.firstInput, chunk.firstInput + chunk.inputCount).map((text) => `${JSON.stringify({ input: text })}\n`);
      expect(chunk.bytes.toString('utf8')).toBe(lines.join(''));
    }
  });

  it('closes a chunk before an input that would take it past the token budget', () => {
    // 625 estimated tokens each: two never fit a budget of 1,000
    const long = 'word '.repeat(500);
    const chunks = plan(new ChunkPlanner('text-embedding-3-small', 1_000, 1_000), [long, long, long, 'short']);
    expect(chunks.map((c) => c.inputCount)).toEqual([1, 1, 2]);
    expect(chunks[2]!.bytes.toString('utf8')).toBe(`${JSON.stringify({ input: long })}\n${JSON.stringify({ input: 'short' })}\n`);
  });
});
