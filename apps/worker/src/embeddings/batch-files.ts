/**
 * Where the pieces of a batch live in storage, and the line formats. WARNING: persisted while a
 * batch runs (a restarted worker reads what another wrote).
 */
export const chunkInputKey = (projectId: string, jobId: string, index: number): string => `batches/${projectId}/${jobId}/in-${index}.jsonl`;
export const chunkResultKey = (projectId: string, jobId: string, index: number): string => `batches/${projectId}/${jobId}/out-${index}.jsonl`;

/** An input as the chunk files carry it: `custom_id` (file batches) or `index` (inline batches). */
export type InputRef = { custom_id: string } | { index: number };
export type ChunkInputLine = InputRef & { input: string };

export function refOf(line: ChunkInputLine): InputRef {
  return 'custom_id' in line ? { custom_id: line.custom_id } : { index: line.index };
}

export const chunkInputLine = (ref: InputRef, input: string): string => `${JSON.stringify({ ...ref, input })}\n`;
export const resultLine = (ref: InputRef, embedding: number[]): string => `${JSON.stringify({ ...ref, embedding })}\n`;
export const failedResultLine = (ref: InputRef, error: { code: string; message: string }): string =>
  `${JSON.stringify({ ...ref, embedding: null, error })}\n`;
export const errorLine = (ref: InputRef, error: { code: string; message: string }): string => `${JSON.stringify({ ...ref, error })}\n`;

export function parseChunkInputLines(text: string): ChunkInputLine[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ChunkInputLine);
}
