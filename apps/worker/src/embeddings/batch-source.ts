import { BATCH_MAX_LINE_BYTES, EMBEDDING_MAX_FILE_LINES, isBlankLine, parseBatchLine, type EmbeddingBatchInput } from '@genqueue/core';
import type { FilesRepository } from '@genqueue/db';
import { readLines, type ObjectStorage } from '@genqueue/storage';
import { JobFailure } from '../handlers/job-failure';
import type { InputRef } from './batch-files';

export type BatchItem = { ref: InputRef; text: string };

/**
 * The inputs of a batch in order: the inline list, or the JSONL file read line by line (never
 * whole). The file was validated at submission; a line that is bad now fails the job plainly.
 */
export async function* batchItems(
  input: EmbeddingBatchInput,
  projectId: string,
  deps: { files: FilesRepository; storage: ObjectStorage },
): AsyncGenerator<BatchItem> {
  if (input.inputs) {
    for (const [index, text] of input.inputs.entries()) yield { ref: { index }, text };
    return;
  }
  const fileId = input.file_id ?? '';
  const file = await deps.files.findForProject(projectId, fileId);
  if (!file) throw new JobFailure('invalid_input', `file ${fileId} no longer exists`);
  const stream = deps.storage.read(file.storageKey);
  let count = 0;
  try {
    for await (const line of readLines(stream, BATCH_MAX_LINE_BYTES)) {
      if ('tooLong' in line) throw new JobFailure('invalid_input', `file ${fileId} line ${line.lineNo}: longer than ${BATCH_MAX_LINE_BYTES} bytes`);
      if (isBlankLine(line.text)) continue;
      const parsed = parseBatchLine(line.text);
      if (!parsed.ok) throw new JobFailure('invalid_input', `file ${fileId} line ${line.lineNo}: ${parsed.message}`);
      count += 1;
      if (count > EMBEDDING_MAX_FILE_LINES) throw new JobFailure('invalid_input', `file ${fileId} has more than ${EMBEDDING_MAX_FILE_LINES} lines`);
      yield { ref: { custom_id: parsed.value.customId }, text: parsed.value.input };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new JobFailure('invalid_input', `the stored bytes of file ${fileId} are missing`);
    throw err;
  } finally {
    stream.destroy();
  }
}
