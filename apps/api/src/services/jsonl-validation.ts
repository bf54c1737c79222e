import {
  BATCH_MAX_LINE_BYTES,
  EMBEDDING_MAX_FILE_LINES,
  isBlankLine,
  parseBatchLine,
  type ErrorDetail,
} from '@genqueue/core';
import type { FilesRepository } from '@genqueue/db';
import { readLines, type ObjectStorage } from '@genqueue/storage';

/** How many bad lines a refusal lists (the scan stops there). */
export const MAX_LINE_ERRORS = 20;
const PATH = 'input.file_id';

/**
 * Checks the JSONL file of an `embedding.batch` before anything is stored: every line a
 * `{"custom_id", "input"}` object, at most 1,000,000 of them. Streams the file (bounded memory
 * whatever its size); answers the first problems, each as `line N: …`.
 */
export async function checkBatchFile(
  type: string,
  input: Record<string, unknown>,
  projectId: string,
  deps: { files: FilesRepository; storage?: ObjectStorage },
): Promise<ErrorDetail[]> {
  const fileId = input['file_id'];
  if (type !== 'embedding.batch' || typeof fileId !== 'string') return [];
  const file = await deps.files.findForProject(projectId, fileId);
  if (!file) return [{ path: PATH, message: `no file ${fileId} in this project` }];
  if (file.purpose !== 'batch') return [{ path: PATH, message: `file ${fileId} was uploaded with purpose ${file.purpose}, not batch` }];
  if (!deps.storage) return [];

  const details: ErrorDetail[] = [];
  let count = 0;
  const stream = deps.storage.read(file.storageKey);
  try {
    for await (const line of readLines(stream, BATCH_MAX_LINE_BYTES)) {
      if ('tooLong' in line) {
        details.push({ path: PATH, message: `line ${line.lineNo}: longer than ${BATCH_MAX_LINE_BYTES} bytes` });
      } else if (!isBlankLine(line.text)) {
        count += 1;
        if (count > EMBEDDING_MAX_FILE_LINES) {
          details.push({ path: PATH, message: `line ${line.lineNo}: the file has more than ${EMBEDDING_MAX_FILE_LINES} inputs` });
          break;
        }
        const parsed = parseBatchLine(line.text);
        if (!parsed.ok) details.push({ path: PATH, message: `line ${line.lineNo}: ${parsed.message}` });
      }
      if (details.length >= MAX_LINE_ERRORS) break;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [{ path: PATH, message: `the stored bytes of file ${fileId} are missing` }];
    throw err;
  } finally {
    stream.destroy();
  }
  if (details.length === 0 && count === 0) details.push({ path: PATH, message: 'the file has no lines' });
  return details;
}
