import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { presignGetUrl } from './s3-presign';
import { ObjectTooLargeError, type ByteRange, type ObjectStorage, type PresignOptions, type StoredObject } from './storage';

export type S3StorageOptions = {
  bucket: string;
  region: string;
  /** an S3-compatible server (MinIO, R2, s3rver…); unset: AWS */
  endpoint?: string;
  /** unset: the SDK's default chain (environment, shared config, instance role) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `https://host/bucket/key` rather than `https://bucket.host/key` (most S3-compatible servers need it) */
  forcePathStyle?: boolean;
  /** multipart part size; S3 refuses parts under 5 MiB except the last */
  partSizeBytes?: number;
  /** parts in flight per upload (memory held: partSize × queueSize) */
  queueSize?: number;
};

const MIN_PART_BYTES = 5 * 1024 * 1024;

function isNotFound(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404;
  }
  return false;
}

/**
 * Objects in an S3 bucket. Puts stream through `lib-storage` (one PUT under a part, else a multipart
 * upload that S3 assembles only on completion, so a refused or failed put leaves no object).
 */
export class S3Storage implements ObjectStorage {
  readonly client: S3Client;
  private readonly options: S3StorageOptions;

  constructor(options: S3StorageOptions) {
    this.options = options;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      // Checksums only where S3 requires them: the SDK's default trailing CRC (aws-chunked bodies)
      // is not understood by many S3-compatible servers; bytes are checked by our own sha256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, source: Buffer | Readable, options: { maxBytes?: number } = {}): Promise<StoredObject> {
    const hash = createHash('sha256');
    let bytes = 0;
    let tooLarge = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (options.maxBytes !== undefined && bytes > options.maxBytes) {
          tooLarge = true;
          done(new ObjectTooLargeError(options.maxBytes));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
    // the upload reads `meter`; an error on either side destroys both
    const body = pipeline(input, meter, () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: body },
      partSize: Math.max(MIN_PART_BYTES, this.options.partSizeBytes ?? MIN_PART_BYTES),
      queueSize: this.options.queueSize ?? 4,
      // on any failure lib-storage aborts the multipart upload, so no parts are left billed
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      // the abort request's own failure may surface in place of ours: the limit is what happened
      if (tooLarge) throw new ObjectTooLargeError(options.maxBytes!);
      throw err;
    } finally {
      if (!body.destroyed) body.destroy();
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  read(key: string, range?: ByteRange): Readable {
    const out = new PassThrough();
    this.client
      .send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      )
      .then((res) => {
        const body = res.Body as Readable | undefined;
        if (!body) {
          out.end();
          return;
        }
        pipeline(body, out, () => undefined);
        // a reader that goes away (a client closing a video) ends the GET too
        out.once('close', () => body.destroy());
      })
      .catch((err: unknown) => {
        // the same code as the local driver's missing file, which callers already tell apart
        out.destroy(isNotFound(err) ? Object.assign(new Error(`no object at ${key}`), { code: 'ENOENT', cause: err }) : (err as Error));
      });
    return out;
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async presignedUrl(key: string, expiresInSec: number, options: PresignOptions = {}): Promise<string> {
    const credentials = await this.client.config.credentials();
    return presignGetUrl({
      bucket: this.options.bucket,
      key,
      region: this.options.region,
      endpoint: this.options.endpoint,
      forcePathStyle: this.options.forcePathStyle ?? false,
      credentials,
      expiresInSec,
      responseContentType: options.contentType,
      responseContentDisposition: options.disposition,
    });
  }

  destroy(): void {
    this.client.destroy();
  }
}
