import {
  BATCH_MAX_LINE_BYTES,
  EMBEDDING_MAX_FILE_LINES,
  isBlankLine,
  parseBatchLine,
  type ErrorDetail,
} from '@genqueue/core';
import type { FilesRepository } from '@genqueue/db';
import { readLines, type ObjectStorage } from '@genqueue/storage';
import type { Logger } from 'pino';

/** How many bad lines a refusal lists (the scan stops there). */
export const MAX_LINE_ERRORS = 20;
const PATH = 'input.file_id';
/** scan results kept per process: a few hundred bytes each */
const REMEMBERED_FILES = 1_000;

type Scan = { details: ErrorDetail[]; lines: number };

/**
 * Checks the JSONL file of an `embedding.batch` before anything is stored: every line a
 * `{"custom_id", "input"}` object, at most 1,000,000 of them. Streams the file (bounded memory
 * whatever its size); answers the first problems, each as `line N: …`.
 *
 * A file's bytes never change after upload, so a scan's verdict is kept per file id and sha256 (in
 * this process, least recently used first out): the 1,000 jobs of a bulk request naming one file,
 * or every later submission naming it, read its up to 512 MiB once, not once each.
 */
export class BatchFileValidator {
  /** file id + sha256 → the scan (in flight or done); a Map keeps insertion order, our LRU order */
  private readonly scans = new Map<string, Promise<Scan | 'missing'>>();

  constructor(
    private readonly deps: { files: FilesRepository; storage?: ObjectStorage; logger?: Logger },
    private readonly capacity = REMEMBERED_FILES,
  ) {}

  async check(type: string, input: Record<string, unknown>, projectId: string): Promise<ErrorDetail[]> {
    const fileId = input['file_id'];
    if (type !== 'embedding.batch' || typeof fileId !== 'string') return [];
    // The row is read every time: a deleted file, or one of another project, is refused whatever was scanned.
    const file = await this.deps.files.findForProject(projectId, fileId);
    if (!file) return [{ path: PATH, message: `no file ${fileId} in this project` }];
    if (file.purpose !== 'batch') return [{ path: PATH, message: `file ${fileId} was uploaded with purpose ${file.purpose}, not batch` }];
    const storage = this.deps.storage;
    if (!storage) return [];

    const key = `${file.id}:${file.sha256}`;
    let scan = this.scans.get(key);
    if (scan) {
      this.scans.delete(key);
    } else {
      scan = scanBatchFile(storage, file.storageKey).then((result) => {
        if (result !== 'missing') this.deps.logger?.info({ fileId: file.id, lines: result.lines, bad: result.details.length }, 'batch_file.validated');
        return result;
      });
    }
    this.scans.set(key, scan);
    while (this.scans.size > this.capacity) this.scans.delete(this.scans.keys().next().value as string);
    let result: Scan | 'missing';
    try {
      result = await scan;
    } catch (err) {
      this.scans.delete(key);
      throw err;
    }
    if (result === 'missing') {
      // the bytes may come back (a restored volume): never remembered
      this.scans.delete(key);
      return [{ path: PATH, message: `the stored bytes of file ${fileId} are missing` }];
    }
    return result.details;
  }
}

async function scanBatchFile(storage: ObjectStorage, storageKey: string): Promise<Scan | 'missing'> {
  const details: ErrorDetail[] = [];
  let count = 0;
  const stream = storage.read(storageKey);
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  } finally {
    stream.destroy();
  }
  if (details.length === 0 && count === 0) details.push({ path: PATH, message: 'the file has no lines' });
  return { details, lines: count };
}
