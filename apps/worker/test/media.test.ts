import { Readable } from 'node:stream';
import type { ArtifactsRepository, FilesRepository } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import { UpstreamError, type DownloadResult, type UpstreamClient } from '@genqueue/upstream';
import { MediaInputError, MediaResolver } from '../src/media/media-resolver';
import { isPrivateAddress, publicUrlGuard, UrlNotAllowedError } from '../src/media/url-guard';

const PNG = Buffer.from('\x89PNG\r\n\x1a\nbody', 'latin1');
const PROJECT = 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const FILE_ID = 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const ART_ID = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';

describe('isPrivateAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip'])(
    '%s is private',
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );
});

describe('publicUrlGuard', () => {
  const names: Record<string, string[]> = { 'cdn.example.com': ['93.184.216.34'], 'sneaky.example.com': ['93.184.216.34', '10.0.0.7'], 'void.example.com': [] };
  const guard = publicUrlGuard('http://10.0.0.5:3000', async (host) => names[host] ?? []);

  it('lets public hosts and addresses through', async () => {
    await expect(guard(new URL('https://cdn.example.com/a.png'))).resolves.toBeUndefined();
    await expect(guard(new URL('https://8.8.8.8/a.png'))).resolves.toBeUndefined();
    await expect(guard(new URL('https://[2606:4700:4700::1111]/a.png'))).resolves.toBeUndefined();
  });

  it('refuses private addresses, names resolving to one, and names resolving to nothing', async () => {
    await expect(guard(new URL('http://169.254.169.254/latest/meta-data'))).rejects.toBeInstanceOf(UrlNotAllowedError);
    await expect(guard(new URL('http://[::1]:8080/'))).rejects.toThrow('private address');
    await expect(guard(new URL('https://sneaky.example.com/a.png'))).rejects.toThrow('10.0.0.7');
    await expect(guard(new URL('https://void.example.com/a.png'))).rejects.toThrow('does not resolve');
  });

  it("always allows the gateway's own origin, private or not", async () => {
    await expect(guard(new URL('http://10.0.0.5:3000/_sim/blobs/x.png'))).resolves.toBeUndefined();
    await expect(guard(new URL('http://10.0.0.5:3001/other'))).rejects.toBeInstanceOf(UrlNotAllowedError);
  });
});

describe('MediaResolver', () => {
  function resolver(options: { download?: (url: string) => Promise<DownloadResult>; storedBytes?: Buffer | null } = {}) {
    const files = {
      findForProject: async (projectId: string, id: string) =>
        projectId === PROJECT && id === FILE_ID ? { id, filename: 'cat.png', contentType: 'image/png', storageKey: 'files/cat' } : null,
    } as unknown as FilesRepository;
    const artifacts = {
      findForProject: async (projectId: string, id: string) =>
        projectId === PROJECT && id === ART_ID ? { id, contentType: 'image/png', storageKey: 'artifacts/a.png' } : null,
    } as unknown as ArtifactsRepository;
    const storage = {
      read: () => {
        if (options.storedBytes === null) {
          const missing = new Readable({ read() {} });
          process.nextTick(() => missing.destroy(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })));
          return missing;
        }
        return Readable.from([options.storedBytes ?? PNG]);
      },
    } as unknown as ObjectStorage;
    const upstream = {
      download: options.download ?? (async () => ({ contentType: 'application/octet-stream', bytes: PNG })),
    } as unknown as UpstreamClient;
    return new MediaResolver(files, artifacts, storage, upstream);
  }

  it('reads files and artifacts of the project, with their names and types', async () => {
    await expect(resolver().resolve(PROJECT, { file_id: FILE_ID }, 'image-0.png')).resolves.toEqual({ filename: 'cat.png', contentType: 'image/png', data: PNG });
    await expect(resolver().resolve(PROJECT, { artifact_id: ART_ID }, 'image-1.png')).resolves.toEqual({ filename: 'image-1.png', contentType: 'image/png', data: PNG });
  });

  it("never reads another project's media", async () => {
    const other = 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VX';
    await expect(resolver().resolve(other, { file_id: FILE_ID }, 'x')).rejects.toBeInstanceOf(MediaInputError);
    await expect(resolver().resolve(other, { artifact_id: ART_ID }, 'x')).rejects.toBeInstanceOf(MediaInputError);
  });

  it('types downloaded bytes by their signature', async () => {
    await expect(resolver().resolve(PROJECT, { url: 'https://cdn.example.com/x' }, 'image-2.png')).resolves.toEqual({
      filename: 'image-2.png',
      contentType: 'image/png',
      data: PNG,
    });
  });

  it('turns an unusable input URL into an input error, but lets outages be retried', async () => {
    const failing = (kind: 'not_found' | 'rejected' | 'retryable') =>
      resolver({ download: async () => Promise.reject(new UpstreamError({ kind, message: `${kind} happened` })) });
    await expect(failing('not_found').resolve(PROJECT, { url: 'https://cdn.example.com/gone.png' }, 'x')).rejects.toThrow(
      /could not fetch the input image from cdn\.example\.com: not_found happened/,
    );
    await expect(failing('rejected').resolve(PROJECT, { url: 'http://169.254.169.254/' }, 'x')).rejects.toBeInstanceOf(MediaInputError);
    const outage = failing('retryable').resolve(PROJECT, { url: 'https://cdn.example.com/x.png' }, 'x');
    await expect(outage).rejects.toBeInstanceOf(UpstreamError);
  });

  it('fails as an input error when stored bytes are missing', async () => {
    await expect(resolver({ storedBytes: null }).resolve(PROJECT, { file_id: FILE_ID }, 'x')).rejects.toThrow(`the stored bytes of file ${FILE_ID} are missing`);
  });
});
