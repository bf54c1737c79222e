import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectTooLargeError, type ObjectStorage } from '../src';

/** What a driver's test file hands the contract: the storage and a way to see every stored key. */
export type ContractSubject = {
  storage: ObjectStorage;
  /** every object key the backend holds (temp files and unfinished uploads excluded only if invisible) */
  listKeys(): Promise<string[]>;
};

export type ContractHooks = {
  /** called around the large streamed put; lets a driver check how it was written (S3: multipart) */
  afterLargePut?(key: string): Promise<void> | void;
  afterRefusedLargePut?(key: string): Promise<void> | void;
};

const MB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** A stream of `total` bytes in `chunkBytes` pieces, made as it is read (never whole in memory). */
function generated(total: number, chunkBytes = 256 * 1024, seed = 7): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  let n = seed;
  const stream = new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(chunkBytes, total - sent);
      const chunk = Buffer.alloc(size, n++ % 251);
      chunk.writeUInt32BE(sent, 0);
      sent += size;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** The one behaviour every ObjectStorage driver must have; each driver's test file runs it. */
export function storageContract(subject: () => ContractSubject, hooks: ContractHooks = {}): void {
  const key = (name: string) => `contract/${randomBytes(6).toString('hex')}/${name}`;

  test('puts a Buffer and reads it back with its size and sha256', async () => {
    const { storage } = subject();
    const data = randomBytes(70_000);
    const k = key('buffer.bin');
    await expect(storage.put(k, data)).resolves.toEqual({ bytes: data.length, sha256: sha256(data) });
    expect(await readAll(storage.read(k))).toEqual(data);
    expect(await storage.size(k)).toBe(data.length);
  });

  test('puts a stream and reads it back', async () => {
    const { storage } = subject();
    const parts = [randomBytes(10), randomBytes(100_000), randomBytes(3)];
    const whole = Buffer.concat(parts);
    const k = key('stream.bin');
    await expect(storage.put(k, Readable.from(parts))).resolves.toEqual({ bytes: whole.length, sha256: sha256(whole) });
    expect(await readAll(storage.read(k))).toEqual(whole);
  });

  test('an empty object is an object', async () => {
    const { storage } = subject();
    const k = key('empty');
    await expect(storage.put(k, Buffer.alloc(0))).resolves.toEqual({ bytes: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(await storage.size(k)).toBe(0);
    expect(await readAll(storage.read(k))).toEqual(Buffer.alloc(0));
  });

  test('a put over maxBytes is refused with ObjectTooLargeError and leaves nothing', async () => {
    const { storage, listKeys } = subject();
    const k = key('too-large.bin');
    await expect(storage.put(k, Readable.from([randomBytes(600), randomBytes(600)]), { maxBytes: 1000 })).rejects.toBeInstanceOf(ObjectTooLargeError);
    await expect(storage.put(k, randomBytes(1001), { maxBytes: 1000 })).rejects.toBeInstanceOf(ObjectTooLargeError);
    expect(await storage.size(k)).toBeNull();
    expect((await listKeys()).filter((name) => name.startsWith(k.slice(0, k.lastIndexOf('/'))))).toEqual([]);
    // exactly at the limit is fine
    await expect(storage.put(k, randomBytes(1000), { maxBytes: 1000 })).resolves.toMatchObject({ bytes: 1000 });
  });

  test('a streamed put refused past several parts leaves nothing', async () => {
    const { storage, listKeys } = subject();
    const k = key('too-large-multipart.bin');
    const { stream } = generated(14 * MB);
    await expect(storage.put(k, stream, { maxBytes: 11 * MB })).rejects.toBeInstanceOf(ObjectTooLargeError);
    await hooks.afterRefusedLargePut?.(k);
    expect(await storage.size(k)).toBeNull();
    expect((await listKeys()).filter((name) => name.startsWith(k.slice(0, k.lastIndexOf('/'))))).toEqual([]);
  });

  test('reads inclusive byte ranges', async () => {
    const { storage } = subject();
    const data = randomBytes(10_000);
    const k = key('ranges.bin');
    await storage.put(k, data);
    // (not `0-0`: s3rver 3.7 reads an end of 0 as "to the end", unlike S3)
    expect(await readAll(storage.read(k, { start: 0, end: 1 }))).toEqual(data.subarray(0, 2));
    expect(await readAll(storage.read(k, { start: 100, end: 4_099 }))).toEqual(data.subarray(100, 4_100));
    expect(await readAll(storage.read(k, { start: 9_990, end: 9_999 }))).toEqual(data.subarray(9_990));
  });

  test('size of a missing object is null; reading one fails with ENOENT', async () => {
    const { storage } = subject();
    const k = key('missing');
    expect(await storage.size(k)).toBeNull();
    await expect(readAll(storage.read(k))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('delete removes the object and is idempotent', async () => {
    const { storage, listKeys } = subject();
    const k = key('deleted.bin');
    await storage.put(k, randomBytes(10));
    await storage.delete(k);
    expect(await storage.size(k)).toBeNull();
    await expect(storage.delete(k)).resolves.toBeUndefined();
    await expect(storage.delete(key('never-was'))).resolves.toBeUndefined();
    expect(await listKeys()).not.toContain(k);
  });

  test('a put over an existing key replaces it whole', async () => {
    const { storage } = subject();
    const k = key('replaced.bin');
    await storage.put(k, randomBytes(5_000));
    const second = randomBytes(300);
    await storage.put(k, second);
    expect(await readAll(storage.read(k))).toEqual(second);
  });

  test('a 20 MB stream goes in without being held whole, and reads back exactly', async () => {
    const { storage } = subject();
    const k = key('large.bin');
    const source = generated(20 * MB);
    const stored = await storage.put(k, source.stream, { maxBytes: 64 * MB });
    expect(stored).toEqual({ bytes: 20 * MB, sha256: source.digest() });
    await hooks.afterLargePut?.(k);
    expect(await storage.size(k)).toBe(20 * MB);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of storage.read(k)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    expect({ bytes, sha256: hash.digest('hex') }).toEqual(stored);
    // a range across the 5 MiB part boundary
    const range = await readAll(storage.read(k, { start: 5 * MB - 8, end: 5 * MB + 7 }));
    expect(range.length).toBe(16);
  }, 60_000);

  test('concurrent puts of different keys all land intact', async () => {
    const { storage } = subject();
    const items = Array.from({ length: 12 }, (_, i) => ({ k: key(`concurrent-${i}.bin`), data: randomBytes(20_000 + i * 997) }));
    const results = await Promise.all(items.map(({ k, data }) => storage.put(k, inChunks(data))));
    results.forEach((r, i) => expect(r).toEqual({ bytes: items[i]!.data.length, sha256: sha256(items[i]!.data) }));
    const back = await Promise.all(items.map(({ k }) => readAll(storage.read(k))));
    back.forEach((b, i) => expect(b).toEqual(items[i]!.data));
  });
}

/** A Buffer as a stream of small chunks (so concurrent puts interleave). */
function inChunks(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 4096) chunks.push(data.subarray(i, i + 4096));
  return Readable.from(chunks);
}
