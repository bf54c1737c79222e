import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { ObjectTooLargeError, type ByteRange, type ObjectStorage, type StoredObject } from './storage';

/** Directories remembered per process (one per project under `artifacts/`). */
const MAX_KNOWN_DIRS = 10_000;

/**
 * An object that ends within this many bytes is written with synchronous calls: the write itself
 * takes microseconds, while the stream path costs four thread-pool round trips (open, write, close,
 * rename), each a hand-off between threads; those showed as 15 % of the worker's samples at
 * saturation. Larger objects stream, so a big download never stalls the event loop.
 */
const SMALL_OBJECT_BYTES = 256 * 1024;

/** Counts and hashes an object's bytes as they pass, refusing it past `maxBytes`. */
class ObjectMeter {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly maxBytes: number | undefined) {}

  take(chunk: Buffer): Buffer {
    this.bytes += chunk.length;
    if (this.maxBytes !== undefined && this.bytes > this.maxBytes) throw new ObjectTooLargeError(this.maxBytes);
    this.hash.update(chunk);
    return chunk;
  }

  result(): StoredObject {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** Objects as files under one directory; writes go to a temp file and are renamed into place. */
export class LocalDirectoryStorage implements ObjectStorage {
  private readonly root: string;
  /**
   * Directories this process made or found: a put into one of them skips its mkdir (a syscall per
   * artifact that showed as 4 % of the worker's busy time at saturation). Bounded; forgotten on ENOENT.
   */
  private readonly knownDirs = new Set<string>();

  constructor(rootDir: string) {
    this.root = path.resolve(rootDir);
  }

  private pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new Error(`storage key escapes the root: ${key}`);
    return full;
  }

  async put(key: string, source: Buffer | Readable, options: { maxBytes?: number } = {}): Promise<StoredObject> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    await this.ensureDir(dir);
    const meter = new ObjectMeter(options.maxBytes);
    const chunks: Iterator<Buffer> | AsyncIterator<Buffer> = Buffer.isBuffer(source) ? [source][Symbol.iterator]() : source[Symbol.asyncIterator]();
    // read up to SMALL_OBJECT_BYTES: an object that ends there is written at once
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    try {
      while (headBytes <= SMALL_OBJECT_BYTES) {
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        headBytes += meter.take(next.value).length;
        head.push(next.value);
      }
    } catch (err) {
      await chunks.return?.();
      throw err;
    }
    const temp = `${target}.${randomUUID()}.part`;
    try {
      if (ended) this.writeSmall(temp, target, head);
      else await this.writeStreamed(temp, target, head, chunks, meter);
    } catch (err) {
      // the directory went away under us (removed by hand): the next put makes it again
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.knownDirs.delete(dir);
      throw err;
    }
    return meter.result();
  }

  private writeSmall(temp: string, target: string, head: Buffer[]): void {
    try {
      writeFileSync(temp, head.length === 1 ? head[0]! : Buffer.concat(head));
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  /** The rest of a larger object: the chunks read so far, then the source's, through a file stream. */
  private async writeStreamed(temp: string, target: string, head: Buffer[], chunks: Iterator<Buffer> | AsyncIterator<Buffer>, meter: ObjectMeter): Promise<void> {
    async function* rest(): AsyncGenerator<Buffer> {
      yield* head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield meter.take(next.value);
    }
    const out = createWriteStream(temp);
    try {
      await pipeline(Readable.from(rest(), { objectMode: false }), out);
      await rename(temp, target);
    } catch (err) {
      await chunks.return?.();
      // the stream opens its file lazily: wait for it to close, or the delete could come first
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    if (this.knownDirs.size >= MAX_KNOWN_DIRS) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }

  read(key: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
