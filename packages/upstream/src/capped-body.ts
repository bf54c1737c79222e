import type { Readable } from 'node:stream';
import { UpstreamError } from './errors';

/** A response body read as it arrives, once, within a byte limit. */
export type CappedBody = {
  body: AsyncIterable<Buffer>;
  /** the whole body (one piece is handed back as it is) */
  readAll(): Promise<Buffer>;
  /** drops the rest of the body */
  close(): void;
};

export type CappedBodyOptions = {
  maxBytes: number;
  /** the error past `maxBytes` */
  tooLarge: () => UpstreamError;
  /** a stream failure in our terms (timeouts, aborts, resets) */
  translate: (err: unknown) => unknown;
  /** ends the request: its timer, its abort listener, the socket (called once the body is done or dropped) */
  release: () => void;
};

/**
 * The body of a gateway answer or a download, counted as it arrives: past `maxBytes` it fails with
 * `tooLarge()` and the rest is dropped. Read it once (`body` or `readAll`), or `close()` it.
 */
export function cappedBody(raw: Readable, options: CappedBodyOptions): CappedBody {
  let isConsumed = false;
  async function* iterate(): AsyncGenerator<Buffer> {
    if (isConsumed) throw new Error('response body already consumed');
    isConsumed = true;
    let received = 0;
    try {
      for await (const chunk of raw) {
        const buf = chunk as Buffer;
        received += buf.length;
        if (received > options.maxBytes) throw options.tooLarge();
        yield buf;
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw options.translate(err);
    } finally {
      options.release();
    }
  }
  return {
    body: { [Symbol.asyncIterator]: iterate },
    readAll: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of iterate()) chunks.push(chunk);
      return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
    },
    close: options.release,
  };
}
