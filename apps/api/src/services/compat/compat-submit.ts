import type { Request } from 'express';
import { AppError, newId, parseJobRequest, type ErrorDetail } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import { sniffContentType } from '@genqueue/storage';
import type { ApiDeps } from '../../deps';
import { takeJobSubmissions } from '../../middleware/rate-limit';
import { IdempotencyKeySchema } from '../../routes/schemas';
import { parseOr400 } from '../../routes/validation';
import { bodyHash } from '../canonical-json';
import { assertProjectExists } from '../target-project';

/**
 * The compatible routes (docs/compat.md) are a thin layer over `POST /v1/jobs`: a client's request
 * becomes one genqueue job request, and the compat id of the task is the job id. What the layer
 * adds: images sent inline (data URLs, multipart parts) become files of the project first, and an
 * `Idempotency-Key` is matched against the client's own request (not the translated one, which
 * names freshly stored files).
 */

/** Metadata keys the compat layer writes (strings, as job metadata holds). */
export const COMPAT_METADATA = {
  /** `mj` or `openai-video`: which compatible API submitted the job */
  api: 'compat_api',
  /** sha256 of the client's request, for Idempotency-Key replays */
  requestHash: 'compat_request_sha256',
  /** midjourney-proxy `state` */
  mjState: 'mj_state',
  /** midjourney-proxy `notifyHook` */
  mjNotifyHook: 'mj_notify_hook',
} as const;

/** An image sent inline, stored as a file of the project just before the job is submitted. */
export type InlineImage = { bytes: Buffer; contentType: string; filename: string };

/** A placeholder file id: the request is schema-checked before anything is stored. */
const PLACEHOLDER_FILE_ID = `file_${'0'.repeat(26)}`;

export type CompatJobRequest = {
  type: string;
  /** input with `{ file_id: slot(i) }` where the i-th inline image goes */
  input: Record<string, unknown>;
  metadata: Record<string, string>;
  images: InlineImage[];
};

/** Marks where the i-th inline image goes in an input; replaced by the stored file's id. */
export function inlineSlot(index: number): { file_id: string } {
  return { file_id: `@inline:${index}` };
}

function fillSlots(value: unknown, ids: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => fillSlots(v, ids));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const fileId = record['file_id'];
    if (typeof fileId === 'string' && fileId.startsWith('@inline:')) return { file_id: ids[Number(fileId.slice(8))] };
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fillSlots(v, ids)]));
  }
  return value;
}

/**
 * `data:image/png;base64,…` as bytes; the type is taken from the bytes (the declared one is not
 * trusted). Throws 400 naming `path` when it is not a base64 data URL of an image, 413 when larger
 * than the image upload limit.
 */
export function decodeImageDataUrl(value: unknown, path: string, maxBytes: number, filename: string): InlineImage {
  const bad = (message: string) => new AppError('invalid_request', `${path} is not a valid image: ${message}`, [{ path, message }]);
  if (typeof value !== 'string') throw bad('must be a data URL string (data:image/png;base64,…)');
  const match = /^data:([a-z]+\/[a-z0-9.+-]+)?(?:;[a-z-]+=[^;,]*)*;base64,/i.exec(value.slice(0, 200));
  if (!match) throw bad('must be a base64 data URL (data:image/png;base64,…)');
  const payload = value.slice(match[0].length).replace(/\s+/g, '');
  if (payload.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw bad('the base64 payload is malformed');
  if ((payload.length * 3) / 4 > maxBytes + 3) throw new AppError('payload_too_large', `${path} is larger than the image limit (${maxBytes} bytes)`);
  const bytes = Buffer.from(payload, 'base64');
  const contentType = sniffContentType(bytes.subarray(0, 64));
  if (!contentType.startsWith('image/')) throw bad(`the bytes are ${contentType}, not an image`);
  return { bytes, contentType, filename };
}

/** The `Idempotency-Key` header, checked; null when absent. */
export function idempotencyKeyOf(req: Request): string | null {
  const raw = req.header('Idempotency-Key');
  return raw === undefined ? null : parseOr400(IdempotencyKeySchema, raw, 'Idempotency-Key header', 'Idempotency-Key');
}

/** A digest of what the client sent (JSON fields plus the digests of uploaded bytes). */
export function requestHash(clientRequest: unknown): string {
  return bodyHash(clientRequest);
}

export type CompatSubmitOptions = {
  projectId: string;
  idempotencyKey: string | null;
  /** what the client sent, for Idempotency-Key matching */
  clientRequest: unknown;
  /** maps a failing path of the job request (`input.prompt`) to the client's field name */
  fieldOf: (path: string) => string;
};

/**
 * Validates, stores the inline images as files, and submits the job through the ordinary
 * submission (the same checks, rate limits and outbox as `POST /v1/jobs`). A refused request
 * leaves nothing behind: no job row, no file.
 */
export async function submitCompatJob(
  deps: ApiDeps,
  req: Request,
  request: CompatJobRequest,
  options: CompatSubmitOptions,
): Promise<{ job: Job; created: boolean }> {
  if (req.principal?.kind === 'admin') await assertProjectExists(deps.projects, options.projectId);
  const hash = requestHash(options.clientRequest);
  const metadata = { ...request.metadata, [COMPAT_METADATA.requestHash]: hash };
  const rename = (details: ErrorDetail[]): ErrorDetail[] => details.map((d) => ({ ...d, path: options.fieldOf(d.path) }));

  if (options.idempotencyKey) {
    const existing = await deps.jobs.findByIdempotencyKey(options.projectId, options.idempotencyKey);
    if (existing && existing.createdAt.getTime() >= Date.now() - 86_400_000) {
      const stored = (existing.metadata as Record<string, unknown> | null)?.[COMPAT_METADATA.requestHash];
      if (stored !== hash) throw new AppError('conflict', 'This Idempotency-Key was used with a different request');
      return { job: existing, created: false };
    }
  }

  // Checked with placeholder file ids first, so a bad request stores no file.
  const body = (input: unknown) => ({ type: request.type, input, metadata });
  const placeholders = request.images.map(() => PLACEHOLDER_FILE_ID);
  const parsed = parseJobRequest(body(fillSlots(request.input, placeholders)));
  if (!parsed.ok) throw new AppError('invalid_request', parsed.message, rename(parsed.details));

  await takeJobSubmissions(deps.rateLimits, req, 1);
  const stored: Array<{ id: string; storageKey: string }> = [];
  const removeFiles = async () => {
    for (const file of stored) {
      await deps.prisma.file.delete({ where: { id: file.id } }).catch(() => undefined);
      await deps.storage.delete(file.storageKey).catch(() => undefined);
    }
  };
  try {
    for (const image of request.images) {
      const id = newId('file');
      const storageKey = `files/${options.projectId}/${id}`;
      stored.push({ id, storageKey });
      const put = await deps.storage.put(storageKey, image.bytes);
      await deps.files.create({
        id,
        projectId: options.projectId,
        storageKey,
        purpose: 'image',
        filename: image.filename,
        contentType: image.contentType,
        bytes: put.bytes,
        sha256: put.sha256,
      });
    }
    const submitted = await deps.submission.submit(options.projectId, body(fillSlots(request.input, stored.map((f) => f.id))), options.idempotencyKey);
    if (!submitted.created) await removeFiles(); // a concurrent replay won: its job has its own files
    return submitted;
  } catch (err) {
    await removeFiles();
    if (err instanceof AppError && err.code === 'invalid_request') throw new AppError('invalid_request', err.message, rename(err.details), err.retryAfterSec);
    throw err;
  }
}

/** Epoch milliseconds, or null. */
export const millis = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);
