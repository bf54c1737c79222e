import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LocalDirectoryStorage } from '../src';
import { storageContract } from './storage-contract';

/** Every file under `dir` as a key, temp files of unfinished writes included (they must not linger). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('LocalDirectoryStorage', () => {
  let dir: string;
  let storage: LocalDirectoryStorage;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'genqueue-storage-'));
    storage = new LocalDirectoryStorage(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  storageContract(() => ({ storage, listKeys: async () => filesUnder(dir) }));

  test('a directory removed from outside is made again (the next put after the failed one succeeds)', async () => {
    await storage.put('gone/a.bin', Buffer.from('a'));
    rmSync(path.join(dir, 'gone'), { recursive: true, force: true });
    // the first put may fail on the missing directory; it must not keep failing
    await storage.put('gone/b.bin', Buffer.from('b')).catch(() => undefined);
    await expect(storage.put('gone/c.bin', Buffer.from('c'))).resolves.toMatchObject({ bytes: 1 });
    expect(await storage.size('gone/c.bin')).toBe(1);
  });

  test('objects on either side of the small-object bound (written at once, or streamed) are stored whole', async () => {
    const bound = 256 * 1024;
    for (const total of [bound - 1, bound, bound + 1, 3 * bound]) {
      const data = randomBytes(total);
      // in 64 KiB chunks, so the bound falls inside the object as a stream sees it
      const parts = Array.from({ length: Math.ceil(total / 65_536) }, (_, n) => data.subarray(n * 65_536, (n + 1) * 65_536));
      const key = `bound/${total}.bin`;
      await expect(storage.put(key, Readable.from(parts))).resolves.toEqual({ bytes: total, sha256: createHash('sha256').update(data).digest('hex') });
      expect(readFileSync(path.join(dir, key)).equals(data)).toBe(true);
    }
    expect(filesUnder(path.join(dir, 'bound')).sort()).toEqual([`${bound - 1}.bin`, `${bound}.bin`, `${bound + 1}.bin`, `${3 * bound}.bin`].sort());
  });

  test('a key may not leave the directory', async () => {
    await expect(storage.put('../outside', Buffer.from('x'))).rejects.toThrow(/escapes/);
  });
});
