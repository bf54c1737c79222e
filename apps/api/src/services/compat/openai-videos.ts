import busboy from 'busboy';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { AppError } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import { sniffContentType } from '@genqueue/storage';
import { COMPAT_METADATA, decodeImageDataUrl, inlineSlot, type CompatJobRequest, type InlineImage } from './compat-submit';

/**
 * OpenAI's video API over `video.generate` and `video.remix` jobs (docs/compat.md): `POST /v1/videos`
 * as the OpenAI SDKs send it (JSON, or multipart with an `input_reference` file),
 * `POST /v1/videos/{id}/remix`, the Video object as OpenAI answers it. The video id is the genqueue job id.
 */

export type OpenAiVideo = {
  id: string;
  object: 'video';
  model: string;
  status: 'queued' | 'in_progress' | 'completed' | 'failed';
  progress: number;
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  prompt: string;
  size: string;
  seconds: string;
  quality: string;
  remixed_from_video_id: string | null;
  error: { code: string; message: string } | null;
};

const KNOWN_FIELDS = new Set(['model', 'prompt', 'seconds', 'size', 'input_reference']);

/** A failing path of the job request (`input.seconds`) as the OpenAI parameter (`seconds`). */
export const videoFieldOf = (path: string): string => (path.startsWith('input.') ? (path.slice(6).split('.')[0] ?? path) : path);

/** As `videoFieldOf`; the remixed video is the path's `video_id`. */
export const remixFieldOf = (path: string): string => (path === 'input.parent_id' ? 'video_id' : videoFieldOf(path));

const unixSeconds = (date: Date | null): number | null => (date ? Math.floor(date.getTime() / 1000) : null);
const asRecord = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * A job as OpenAI's Video object. `expires_at` of a completed video is when retention removes our
 * stored copy (finished + the project's `limits.retention_days`, default 30), as OpenAI's says when
 * its asset goes. A remix shows the model, size and seconds of `origin`, the `video.generate` its
 * chain starts from (the remix runs on them).
 */
export function toOpenAiVideo(job: Job, retentionDays: number, origin: Job = job): OpenAiVideo {
  const input = asRecord(job.input);
  const originInput = asRecord(origin.input);
  const error = asRecord(job.error);
  const status: OpenAiVideo['status'] =
    job.status === 'queued' ? 'queued' : job.status === 'running' ? 'in_progress' : job.status === 'succeeded' ? 'completed' : 'failed';
  const failure =
    status === 'failed'
      ? {
          code: typeof error['code'] === 'string' ? error['code'] : job.status,
          message: typeof error['message'] === 'string' ? error['message'] : job.status === 'canceled' ? 'The video job was canceled' : `The video job ${job.status}`,
        }
      : null;
  return {
    id: job.id,
    object: 'video',
    model: String(originInput['model'] ?? 'sora-2'),
    status,
    progress: status === 'completed' ? 100 : Math.max(0, Math.min(100, Math.round(job.progress))),
    created_at: Math.floor(job.createdAt.getTime() / 1000),
    completed_at: status === 'completed' ? unixSeconds(job.finishedAt) : null,
    expires_at: status === 'completed' && job.finishedAt ? Math.floor(job.finishedAt.getTime() / 1000) + retentionDays * 86_400 : null,
    prompt: String(input['prompt'] ?? ''),
    size: String(originInput['size'] ?? ''),
    seconds: String(originInput['seconds'] ?? ''),
    quality: 'standard',
    remixed_from_video_id: job.type === 'video.remix' ? job.parentId : null,
    error: failure,
  };
}

/** The fields of a create request, whichever way they came. */
type CreateFields = { fields: Record<string, unknown>; reference: InlineImage | null };

function jobRequestOf(create: CreateFields, imageLimit: number): CompatJobRequest {
  const { fields } = create;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) throw new AppError('invalid_request', `Unrecognized request argument supplied: ${key}`, [{ path: key, message: 'unknown parameter' }]);
  }
  const images: InlineImage[] = [];
  let reference: unknown;
  if (create.reference) {
    images.push(create.reference);
    reference = inlineSlot(0);
  } else if (fields['input_reference'] !== undefined && fields['input_reference'] !== null && fields['input_reference'] !== '') {
    const value = fields['input_reference'];
    const url = typeof value === 'string' ? value : typeof asRecord(value)['image_url'] === 'string' ? (asRecord(value)['image_url'] as string) : undefined;
    if (url === undefined) throw new AppError('invalid_request', 'input_reference must be an image file, an image URL or a data URL', [{ path: 'input_reference', message: 'unsupported value' }]);
    if (url.startsWith('data:')) {
      images.push(decodeImageDataUrl(url, 'input_reference', imageLimit, 'input_reference'));
      reference = inlineSlot(0);
    } else {
      reference = { url };
    }
  }
  const input: Record<string, unknown> = {};
  for (const key of ['prompt', 'model', 'seconds', 'size'] as const) {
    if (fields[key] !== undefined && fields[key] !== null) input[key] = fields[key];
  }
  if (input['prompt'] === undefined) throw new AppError('invalid_request', "Missing required parameter: 'prompt'", [{ path: 'prompt', message: 'required' }]);
  if (reference !== undefined) input['input_reference'] = reference;
  return { type: 'video.generate', input, metadata: { [COMPAT_METADATA.api]: 'openai-video' }, images };
}

/** `POST /v1/videos/{id}/remix` (`{"prompt"}`) as a `video.remix` job request of video `parentId`. */
export function remixRequestOf(parentId: string, body: unknown): CompatJobRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_request', 'The request body must be a JSON object', [{ path: '(body)', message: 'expected a JSON object' }]);
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'prompt') throw new AppError('invalid_request', `Unrecognized request argument supplied: ${key}`, [{ path: key, message: 'unknown parameter' }]);
  }
  if (fields['prompt'] === undefined || fields['prompt'] === null) throw new AppError('invalid_request', "Missing required parameter: 'prompt'", [{ path: 'prompt', message: 'required' }]);
  return { type: 'video.remix', input: { parent_id: parentId, prompt: fields['prompt'] }, metadata: { [COMPAT_METADATA.api]: 'openai-video' }, images: [] };
}

/**
 * A create request as a job request and a digest of it (for Idempotency-Key). JSON bodies are
 * parsed by the route; multipart ones here, kept in memory (one image, within the image limit).
 */
export async function readCreateRequest(req: Request, imageLimit: number): Promise<{ request: CompatJobRequest; clientRequest: unknown }> {
  const type = req.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(type)) {
    const create = await readMultipart(req, imageLimit);
    const clientRequest = { fields: create.fields, reference: create.reference ? createHash('sha256').update(create.reference.bytes).digest('hex') : null };
    return { request: jobRequestOf(create, imageLimit), clientRequest };
  }
  const body: unknown = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_request', 'The request body must be a JSON object or multipart/form-data', [{ path: '(body)', message: 'expected a JSON object' }]);
  }
  return { request: jobRequestOf({ fields: body as Record<string, unknown>, reference: null }, imageLimit), clientRequest: body };
}

function readMultipart(req: Request, imageLimit: number): Promise<CreateFields> {
  const malformed = (message: string) => new AppError('invalid_request', `The multipart body is malformed: ${message}`, [{ path: '(body)', message }]);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024, fileSize: imageLimit + 1 } });
  } catch (err) {
    return Promise.reject(malformed(err instanceof Error ? err.message : String(err)));
  }
  return new Promise<CreateFields>((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    let reference: InlineImage | null = null;
    let failure: AppError | null = null;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, file, info) => {
      if (name !== 'input_reference') {
        failure ??= new AppError('invalid_request', `Unrecognized file part: ${name}`, [{ path: name, message: 'unknown parameter' }]);
        file.resume();
        return;
      }
      const chunks: Buffer[] = [];
      // a part cut short (the body ended before its boundary) errors here; unheard, it would crash the process
      file.on('error', (err: Error) => {
        failure ??= malformed(err.message);
      });
      file.on('data', (chunk: Buffer) => chunks.push(chunk));
      file.on('limit', () => {
        failure ??= new AppError('payload_too_large', `input_reference is larger than the image limit (${imageLimit} bytes)`);
      });
      file.on('end', () => {
        const bytes = Buffer.concat(chunks);
        if (bytes.length === 0) {
          failure ??= new AppError('invalid_request', 'input_reference is empty', [{ path: 'input_reference', message: 'empty file' }]);
          return;
        }
        const contentType = sniffContentType(bytes.subarray(0, 64));
        if (!contentType.startsWith('image/')) {
          failure ??= new AppError('invalid_request', `input_reference must be an image, not ${contentType}`, [{ path: 'input_reference', message: `unexpected content type ${contentType}` }]);
          return;
        }
        reference = { bytes, contentType, filename: info.filename || 'input_reference' };
      });
    });
    parser.on('error', (err: unknown) => reject(malformed(err instanceof Error ? err.message : String(err))));
    parser.on('close', () => (failure ? reject(failure) : resolve({ fields, reference })));
    req.on('close', () => {
      if (!req.complete) parser.destroy(new Error('the client went away before the request ended'));
    });
    req.pipe(parser);
  });
}
