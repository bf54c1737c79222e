import type { MediaSource } from '@genqueue/core';
import type { ArtifactsRepository, FilesRepository } from '@genqueue/db';
import type { ObjectStorage } from '@genqueue/storage';
import { sniffContentType } from '@genqueue/storage';
import { UpstreamError, type UpstreamClient } from '@genqueue/upstream';
import { charge, DEFAULT_MEDIA_LIMITS, isBudgetBound, MediaBudgetError, roomFor, type MediaLimits } from './media-budget';
import { MediaInputError } from './media-errors';

export { MediaInputError } from './media-errors';

export type ResolvedMedia = { filename: string; contentType: string; data: Buffer };

/**
 * Reads a stored object within `maxBytes`. The bytes end up in a multipart body for the gateway, so
 * they are held in memory once; the cap (object limit and the run's budget) is what bounds that.
 */
async function readBounded(stream: NodeJS.ReadableStream, what: string, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      length += buf.length;
      if (length > maxBytes) {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        throw tooLarge();
      }
      chunks.push(buf);
    }
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
  return new MediaInputError(`could not fetch the input media from ${where}: ${err.message}`);
}

/**
 * Turns MediaSources into bytes, only ever from the job's own project. A URL is a tenant's URL:
 * fetched through the connect-time SSRF guard, never on the gateway's origin, never with its key.
 */
export class MediaResolver {
  constructor(
    private readonly files: FilesRepository,
    private readonly artifacts: ArtifactsRepository,
    private readonly storage: ObjectStorage,
    private readonly upstream: UpstreamClient,
    readonly limits: MediaLimits = DEFAULT_MEDIA_LIMITS,
  ) {}

  async resolve(projectId: string, source: MediaSource, name: string, signal?: AbortSignal): Promise<ResolvedMedia> {
    const room = roomFor(this.limits, signal);
    const tooLarge = (): Error =>
      isBudgetBound(this.limits, room) ? new MediaBudgetError(this.limits.jobMaxBytes) : new MediaInputError(`${name} is larger than ${this.limits.objectMaxBytes} bytes`);
    let resolved: ResolvedMedia;
    if ('url' in source) {
      const downloaded = await this.upstream
        .download(source.url, { source: 'tenant', maxBytes: room, ...(signal !== undefined ? { signal } : {}) })
        .catch((err: unknown) => {
          if (err instanceof UpstreamError && /larger than the limit|exceeds the limit/.test(err.message)) throw tooLarge();
          throw asInputError(err, source.url);
        });
      const contentType = sniffContentType(downloaded.bytes, downloaded.contentType || 'application/octet-stream');
      resolved = { filename: name, contentType, data: downloaded.bytes };
    } else if ('file_id' in source) {
      const file = await this.files.findForProject(projectId, source.file_id);
      if (!file) throw new MediaInputError(`file ${source.file_id} no longer exists`);
      const data = await readBounded(this.storage.read(file.storageKey), `file ${file.id}`, room, tooLarge);
      resolved = { filename: file.filename, contentType: file.contentType, data };
    } else {
      const artifact = await this.artifacts.findForProject(projectId, source.artifact_id);
      if (!artifact) throw new MediaInputError(`artifact ${source.artifact_id} no longer exists`);
      const data = await readBounded(this.storage.read(artifact.storageKey), `artifact ${artifact.id}`, room, tooLarge);
      resolved = { filename: name, contentType: artifact.contentType, data };
    }
    charge(this.limits, signal, resolved.data.length);
    return resolved;
  }
}
