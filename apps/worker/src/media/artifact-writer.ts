import { Readable } from 'node:stream';
import { newId } from '@genqueue/core';
import type { Artifact, ArtifactsRepository, Job } from '@genqueue/db';
import { extensionFor, ObjectTooLargeError, SNIFF_BYTES, storableContentType, type ObjectStorage } from '@genqueue/storage';
import { UpstreamError, type DownloadStream } from '@genqueue/upstream';
import { charge, DEFAULT_MEDIA_LIMITS, isBudgetBound, MediaBudgetError, roomFor, type MediaLimits } from './media-budget';
import { MediaInputError } from './media-errors';

export type ArtifactInput = {
  kind: string;
  data: Buffer;
  /** what the source declared; kept only for text types whose bytes are not markup (see storableContentType) */
  contentType?: string;
  sourceUrl?: string | null;
  /** the job run's signal: the bytes count against its media budget */
  signal?: AbortSignal;
};

export type ArtifactStreamInput = Omit<ArtifactInput, 'data'> & {
  /** the first bytes already read (from `peekHead`), then the rest */
  head: Buffer;
  rest: AsyncIterable<Buffer>;
};

export type ArtifactDownloadInput = Omit<ArtifactInput, 'data' | 'contentType'> & {
  /** opens the download with `maxBytes` as its limit (the room the object cap and the run's budget leave) */
  open: (maxBytes: number) => Promise<DownloadStream>;
  /** the type to sniff against when the source declares none or `application/octet-stream` */
  fallbackContentType?: string;
};

/** The download's own size check (a declared Content-Length or the bytes counted as they came). */
const isOverLimit = (err: unknown): boolean => err instanceof UpstreamError && /exceeds the limit|larger than the limit/.test(err.message);

/** The first `SNIFF_BYTES` (or all, when shorter) of a body, and an iterable of what follows. */
export async function peekHead(body: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const rest: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => (done ? { next: async () => ({ done: true, value: undefined }) } : iterator),
  };
  return { head: Buffer.concat(chunks), rest };
}

/**
 * Copies an output into our storage at once (gateway URLs expire) and records it. The stored type
 * is sniffed from the bytes: only allow-listed raster images, audio, video and text keep a type;
 * SVG, HTML and anything unknown are stored as `application/octet-stream`.
 */
export class ArtifactWriter {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly artifacts: ArtifactsRepository,
    private readonly limits: MediaLimits = DEFAULT_MEDIA_LIMITS,
  ) {}

  async save(job: Job, input: ArtifactInput): Promise<Artifact> {
    return this.saveStream(job, { ...input, head: input.data, rest: empty() });
  }

  /**
   * A result (video content, an MJ image, a gateway image URL) streamed from the gateway or its CDN
   * straight into storage: at most the room the object cap and the run's budget leave is read, the
   * object appears only when complete, and a result over either limit fails the job (a
   * MediaBudgetError or MediaInputError) with no file and no row left behind.
   */
  async saveDownload(job: Job, input: ArtifactDownloadInput): Promise<Artifact> {
    const { open, fallbackContentType, ...rest } = input;
    const room = roomFor(this.limits, input.signal);
    if (room === 0) throw new MediaBudgetError(this.limits.jobMaxBytes);
    let download: DownloadStream;
    try {
      download = await open(room);
    } catch (err) {
      throw isOverLimit(err) ? this.tooLarge(input.kind, room) : err;
    }
    try {
      const { head, rest: body } = await peekHead(download.body);
      const declared = !download.contentType || /^application\/octet-stream\b/i.test(download.contentType) ? (fallbackContentType ?? download.contentType) : download.contentType;
      return await this.saveStream(job, { ...rest, head, rest: body, ...(declared ? { contentType: declared } : {}) });
    } catch (err) {
      throw isOverLimit(err) ? this.tooLarge(input.kind, room) : err;
    } finally {
      download.close();
    }
  }

  /** Streams the bytes to storage within the object cap and the run's media budget. */
  async saveStream(job: Job, input: ArtifactStreamInput): Promise<Artifact> {
    const id = newId('art');
    const contentType = storableContentType(input.head, input.contentType);
    const storageKey = `artifacts/${job.projectId}/${id}.${extensionFor(contentType)}`;
    const room = roomFor(this.limits, input.signal);
    let stored: { bytes: number; sha256: string };
    try {
      stored = await this.storage.put(storageKey, Readable.from(concat(input.head, input.rest), { objectMode: false }), { maxBytes: room });
    } catch (err) {
      if (!(err instanceof ObjectTooLargeError)) throw err;
      throw this.tooLarge(input.kind, room);
    }
    charge(this.limits, input.signal, stored.bytes);
    try {
      return await this.artifacts.create({
        id,
        projectId: job.projectId,
        jobId: job.id,
        kind: input.kind,
        contentType,
        bytes: stored.bytes,
        sha256: stored.sha256,
        storageKey,
        sourceUrl: input.sourceUrl ?? null,
      });
    } catch (err) {
      await this.storage.delete(storageKey).catch(() => undefined);
      throw err;
    }
  }

  private tooLarge(kind: string, room: number): MediaInputError {
    if (isBudgetBound(this.limits, room)) return new MediaBudgetError(this.limits.jobMaxBytes);
    return new MediaInputError(`a ${kind} is larger than the limit of ${this.limits.objectMaxBytes} bytes`);
  }
}

async function* empty(): AsyncGenerator<Buffer> {
  // nothing after the head
}

async function* concat(head: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for await (const chunk of rest) yield chunk;
}
