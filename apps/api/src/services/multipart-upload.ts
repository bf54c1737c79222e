import busboy from 'busboy';
import type { Request } from 'express';
import { PassThrough, Transform } from 'node:stream';
import { AppError } from '@genqueue/core';
import { ObjectTooLargeError, sniffContentType, type ObjectStorage } from '@genqueue/storage';

export const FILE_PURPOSES = ['audio', 'image', 'batch'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

export type UploadedFile = {
  purpose: FilePurpose;
  filename: string;
  contentType: string;
  bytes: number;
  sha256: string;
};

const isPurpose = (value: string | null): value is FilePurpose => value !== null && (FILE_PURPOSES as readonly string[]).includes(value);

/** Captures the first bytes of a stream (for type sniffing) while passing everything through. */
function headCapture(limit = 64): { stream: Transform; head: () => Buffer } {
  let head = Buffer.alloc(0);
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (head.length < limit) head = Buffer.concat([head, chunk.subarray(0, limit - head.length)]);
      done(null, chunk);
    },
  });
  return { stream, head: () => head };
}

function acceptsType(purpose: FilePurpose, sniffed: string, filename: string): string | null {
  if (purpose === 'image') return sniffed.startsWith('image/') ? sniffed : null;
  if (purpose === 'audio') return sniffed.startsWith('audio/') || sniffed.startsWith('video/') ? sniffed : null;
  if (!/\.jsonl?$/i.test(filename) && sniffed !== 'application/octet-stream') return null;
  return 'application/x-ndjson';
}

/**
 * Streams the `file` part of a multipart request straight into storage (never buffered whole),
 * enforcing the purpose's size limit. On any failure nothing is left in storage.
 */
export async function receiveUpload(
  req: Request,
  storage: ObjectStorage,
  storageKey: string,
  limits: Record<FilePurpose, number>,
): Promise<UploadedFile> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    throw new AppError('invalid_request', 'Upload files as multipart/form-data with fields "file" and "purpose"', [
      { path: '(body)', message: 'expected multipart/form-data' },
    ]);
  }
  const largest = Math.max(...Object.values(limits));
  const received: {
    purpose: string | null;
    file: Promise<{ filename: string; bytes: number; sha256: string; head: Buffer }> | null;
  } = { purpose: null, file: null };

  const malformed = (message: string) => new AppError('invalid_request', `The multipart body is malformed: ${message}`, [{ path: '(body)', message }]);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: largest + 1 } });
  } catch (err) {
    throw malformed(err instanceof Error ? err.message : String(err)); // e.g. no boundary
  }
  const done = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value) => {
      if (name === 'purpose') received.purpose = value;
    });
    parser.on('file', (name, file, info) => {
      if (name !== 'file' || received.file) {
        file.resume();
        return;
      }
      const limit = isPurpose(received.purpose) ? limits[received.purpose] : largest;
      const capture = headCapture();
      const body = new PassThrough();
      // Errors surface through storage.put; until its pipeline listens, an unheard 'error' would crash the process.
      body.on('error', () => undefined);
      file.on('limit', () => body.destroy(new ObjectTooLargeError(limit)));
      // A broken or abandoned request destroys the part: end the write too, so no temp file stays.
      file.on('error', (err) => body.destroy(err));
      file.pipe(capture.stream).pipe(body);
      const filePromise = storage
        .put(storageKey, body, { maxBytes: limit })
        .then((stored) => ({ filename: info.filename || 'upload', bytes: stored.bytes, sha256: stored.sha256, head: capture.head() }));
      // On failure (too large, storage error) the pipe's target is gone and would hold the part
      // back for ever: detach it and drain the rest, so busboy can finish reading the request.
      filePromise.catch(() => {
        file.unpipe();
        file.resume();
      });
      received.file = filePromise;
    });
    parser.on('error', (err: unknown) => reject(malformed(err instanceof Error ? err.message : String(err))));
    parser.on('close', resolve);
  });
  req.on('close', () => {
    if (!req.complete) parser.destroy(new Error('the client went away before the upload ended'));
  });
  req.pipe(parser);

  const cleanup = () => storage.delete(storageKey).catch(() => undefined);
  try {
    await done;
    if (!received.file) throw new AppError('invalid_request', 'The upload has no "file" part', [{ path: 'file', message: 'required' }]);
    const file = await received.file;
    const purpose = received.purpose;
    if (!isPurpose(purpose)) {
      throw new AppError('invalid_request', 'The upload needs a purpose', [{ path: 'purpose', message: `must be one of ${FILE_PURPOSES.join(', ')}` }]);
    }
    const validPurpose = purpose;
    if (file.bytes > limits[validPurpose]) throw new ObjectTooLargeError(limits[validPurpose]);
    if (file.bytes === 0) throw new AppError('invalid_request', 'The uploaded file is empty', [{ path: 'file', message: 'empty' }]);
    const sniffed = sniffContentType(file.head);
    const accepted = acceptsType(validPurpose, sniffed, file.filename);
    if (!accepted) {
      throw new AppError('invalid_request', `A ${validPurpose} upload cannot be ${sniffed}`, [{ path: 'file', message: `unexpected content type ${sniffed}` }]);
    }
    return { purpose: validPurpose, filename: file.filename, contentType: accepted, bytes: file.bytes, sha256: file.sha256 };
  } catch (err) {
    await cleanup();
    if (err instanceof ObjectTooLargeError) {
      throw new AppError('payload_too_large', `The file is larger than this purpose allows (${err.maxBytes} bytes)`);
    }
    throw err;
  }
}
