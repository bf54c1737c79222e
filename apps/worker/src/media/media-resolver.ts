import type { MediaSource } from '@genqueue/core';
import type { ArtifactsRepository, FilesRepository } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import { sniffContentType } from '@genqueue/storage';
import { UpstreamError, type UpstreamClient } from '@genqueue/upstream';

export type ResolvedMedia = { filename: string; contentType: string; data: Buffer };

/** A MediaSource that cannot be turned into bytes: the job's input is at fault, not the gateway. */
export class MediaInputError extends Error {
  override readonly name = 'MediaInputError';
}

const MAX_MEDIA_BYTES = 64 * 1024 * 1024;

async function readAll(stream: NodeJS.ReadableStream, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  } catch (err) {
    // The row is there but its bytes are not: the input is unusable, retrying will not bring them back.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MediaInputError(`the stored bytes of ${what} are missing`);
    throw err;
  }
  return Buffer.concat(chunks);
}

/** A URL the client gave that cannot be fetched (gone, refused, not allowed) is the input's fault; outages are retried. */
function asInputError(err: unknown, url: string): unknown {
  if (!(err instanceof UpstreamError) || err.isRetryable || err.kind === 'auth') return err;
  let where = 'the URL';
  try {
    where = new URL(url).host;
  } catch {
    // keep the generic wording
  }
  return new MediaInputError(`could not fetch the input image from ${where}: ${err.message}`);
}

/** Turns MediaSources into bytes, only ever from the job's own project. */
export class MediaResolver {
  constructor(
    private readonly files: FilesRepository,
    private readonly artifacts: ArtifactsRepository,
    private readonly storage: ObjectStorage,
    private readonly upstream: UpstreamClient,
  ) {}

  async resolve(projectId: string, source: MediaSource, name: string, signal?: AbortSignal): Promise<ResolvedMedia> {
    if ('url' in source) {
      const downloaded = await this.upstream.download(source.url, { maxBytes: MAX_MEDIA_BYTES, signal }).catch((err: unknown) => {
        throw asInputError(err, source.url);
      });
      const contentType = sniffContentType(downloaded.bytes, downloaded.contentType || 'application/octet-stream');
      return { filename: name, contentType, data: downloaded.bytes };
    }
    if ('file_id' in source) {
      const file = await this.files.findForProject(projectId, source.file_id);
      if (!file) throw new MediaInputError(`file ${source.file_id} no longer exists`);
      return { filename: file.filename, contentType: file.contentType, data: await readAll(this.storage.read(file.storageKey), `file ${file.id}`) };
    }
    const artifact = await this.artifacts.findForProject(projectId, source.artifact_id);
    if (!artifact) throw new MediaInputError(`artifact ${source.artifact_id} no longer exists`);
    return { filename: name, contentType: artifact.contentType, data: await readAll(this.storage.read(artifact.storageKey), `artifact ${artifact.id}`) };
  }
}
