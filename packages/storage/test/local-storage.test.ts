import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  test('a key may not leave the directory', async () => {
    await expect(storage.put('../outside', Buffer.from('x'))).rejects.toThrow(/escapes/);
  });
});
