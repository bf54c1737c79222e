import type { Readable } from 'node:stream';

export type StoredObject = { bytes: number; sha256: string };
export type ByteRange = { start: number; end: number };
/** Response headers a presigned GET makes the store answer with. */
export type PresignOptions = { contentType?: string; disposition?: string };

/** Where artifact and upload bytes live. Keys are opaque relative paths chosen by the caller. */
export interface ObjectStorage {
  /** Streams `source` in, hashing as it goes; the object appears only once complete. */
  put(key: string, source: Buffer | Readable, options?: { maxBytes?: number }): Promise<StoredObject>;
  /** Reads the whole object or an inclusive byte range. */
  read(key: string, range?: ByteRange): Readable;
  size(key: string): Promise<number | null>;
  /** Removes the object; a missing one is no error. */
  delete(key: string): Promise<void>;
  /** A time-limited GET URL straight to the store (drivers that have one: S3). */
  presignedUrl?(key: string, expiresInSec: number, options?: PresignOptions): Promise<string>;
}

export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`object is larger than ${maxBytes} bytes`);
  }
}
