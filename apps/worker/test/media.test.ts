import { Readable } from 'node:stream';
import type { ArtifactsRepository, FilesRepository } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import { UpstreamError, type DownloadResult, type UpstreamClient } from '@genqueue/upstream';
import { MediaInputError, MediaResolver } from '../src/media/media-resolver';
import { MediaBudgetError } from '../src/media/media-budget';

const PNG = Buffer.from('\x89PNG\r\n\x1a\nbody', 'latin1');
const PROJECT = 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const FILE_ID = 'file_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const ART_ID = 'art_01JD7Q3V9XK6M2N4P8R0S5T7VW';

describe('MediaResolver', () => {
  function resolver(
    options: { download?: (url: string, opts: { source?: string; maxBytes?: number }) => Promise<DownloadResult>; storedBytes?: Buffer | null; jobMaxBytes?: number } = {},
  ) {
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
    return new MediaResolver(files, artifacts, storage, upstream, { objectMaxBytes: 1024, jobMaxBytes: options.jobMaxBytes ?? 4096, chatMaxLinks: 8 });
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
      /could not fetch the input media from cdn\.example\.com: not_found happened/,
    );
    await expect(failing('rejected').resolve(PROJECT, { url: 'http://169.254.169.254/' }, 'x')).rejects.toBeInstanceOf(MediaInputError);
    const outage = failing('retryable').resolve(PROJECT, { url: 'https://cdn.example.com/x.png' }, 'x');
    await expect(outage).rejects.toBeInstanceOf(UpstreamError);
  });

  it('fails as an input error when stored bytes are missing', async () => {
    await expect(resolver({ storedBytes: null }).resolve(PROJECT, { file_id: FILE_ID }, 'x')).rejects.toThrow(`the stored bytes of file ${FILE_ID} are missing`);
  });

  it("fetches a URL input as a tenant's URL (never the gateway's origin, never its key), within the object cap", async () => {
    const seen: Array<{ source?: string; maxBytes?: number }> = [];
    const r = resolver({ download: async (_url, opts) => (seen.push(opts), { contentType: 'image/png', bytes: PNG }) });
    await r.resolve(PROJECT, { url: 'https://cdn.example.com/x.png' }, 'x');
    expect(seen).toEqual([expect.objectContaining({ source: 'tenant', maxBytes: 1024 })]);
  });

  it("counts every input of one run against the job's media budget", async () => {
    const big = Buffer.alloc(900, 1);
    const r = resolver({ storedBytes: big, jobMaxBytes: 2000 });
    const run = new AbortController().signal;
    await r.resolve(PROJECT, { file_id: FILE_ID }, 'a', run);
    await r.resolve(PROJECT, { file_id: FILE_ID }, 'b', run);
    // 1,800 used: the third may have 200 bytes and has 900
    await expect(r.resolve(PROJECT, { file_id: FILE_ID }, 'c', run)).rejects.toBeInstanceOf(MediaBudgetError);
    // another run has a budget of its own; an object over the object cap is an input error
    await expect(r.resolve(PROJECT, { file_id: FILE_ID }, 'd', new AbortController().signal)).resolves.toMatchObject({ data: big });
    await expect(resolver({ storedBytes: Buffer.alloc(1500) }).resolve(PROJECT, { file_id: FILE_ID }, 'e')).rejects.toThrow(/larger than 1024 bytes/);
  });
});
