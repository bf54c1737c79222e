import { Blob } from 'node:buffer';
import { FormData } from 'undici';
import { UpstreamError } from './errors';
import type { CallOptions, UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, asText, compact } from './lenient';
import { parseJsonResponse } from './response';

/** OpenAI-format images: `POST /v1/images/generations` and `/v1/images/edits` (docs/gateway.md §5). */

export interface ImageGenerateRequest {
  model: string;
  prompt: string;
  n?: number;
  /** `1024x1024`, `1536x1024`, `auto`, `1328*1328` (qwen), …; dall-e sizes are checked by the gateway. */
  size?: string;
  quality?: string;
  /** dall-e only; gpt-image models always answer `b64_json`. */
  responseFormat?: 'url' | 'b64_json';
  /** Other body keys (`style`, `background`, `output_format`, …); the named fields win over these. */
  extra?: Record<string, unknown>;
}

export interface ImageFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ImageEditRequest {
  model: string;
  prompt: string;
  n?: number;
  size?: string;
  quality?: string;
  /** One or more source images; each is sent as a repeated `image` file part. */
  images: ImageFile[];
  mask?: ImageFile;
  /** Other form fields; objects are sent as JSON text. */
  extra?: Record<string, string | number | boolean | object>;
}

export interface GeneratedImage {
  url?: string;
  /** Plain base64 (a `data:…;base64,` prefix, if a gateway adds one, is removed). */
  b64Json?: string;
  revisedPrompt?: string;
}

export interface ImageUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

export interface ImageResult {
  created?: number;
  images: GeneratedImage[];
  usage?: ImageUsage;
  /** gpt-image `output_format` (`png`, `jpeg`, `webp`), when given. */
  outputFormat?: string;
}

export interface ImagesApi {
  /** Throws UpstreamError; a 200 without any image is `rejected` (silent moderation). */
  generate(request: ImageGenerateRequest, options?: CallOptions): Promise<ImageResult>;
  /** Multipart edit. Throws UpstreamError like `generate`. */
  edit(request: ImageEditRequest, options?: CallOptions): Promise<ImageResult>;
}

export function createImagesApi(http: UpstreamHttp): ImagesApi {
  return {
    async generate(request, options = {}) {
      const body = {
        ...request.extra,
        ...compact({
          model: request.model,
          prompt: request.prompt,
          n: request.n,
          size: request.size,
          quality: request.quality,
          response_format: request.responseFormat,
        }),
      };
      const res = await http.request({ ...options, method: 'POST', path: '/v1/images/generations', json: body, profile: 'long' });
      return parseImageResponse(parseJsonResponse(res, 'images.generate'), res.status, res.requestId);
    },

    async edit(request, options = {}) {
      if (request.images.length === 0) throw new TypeError('images.edit needs at least one image');
      const form = new FormData();
      form.append('model', request.model);
      form.append('prompt', request.prompt);
      if (request.n !== undefined) form.append('n', String(request.n));
      if (request.size !== undefined) form.append('size', request.size);
      if (request.quality !== undefined) form.append('quality', request.quality);
      for (const [name, value] of Object.entries(request.extra ?? {})) {
        form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
      }
      // new-api reads every `image` file part (then `image[]`, then `image[…]`) and re-sends several
      // as `image[]` to the channel; repeated `image` is the form every build understands.
      for (const image of request.images) form.append('image', toBlob(image), image.filename);
      if (request.mask) form.append('mask', toBlob(request.mask), request.mask.filename);
      const res = await http.request({ ...options, method: 'POST', path: '/v1/images/edits', form, profile: 'long' });
      return parseImageResponse(parseJsonResponse(res, 'images.edit'), res.status, res.requestId);
    },
  };
}

function toBlob(file: ImageFile): Blob {
  return new Blob([file.data], { type: file.contentType });
}

/** Lenient reader for `ImageResponse`; exported for the simulator and tests. */
export function parseImageResponse(json: unknown, httpStatus = 200, requestId?: string): ImageResult {
  const body = asRecord(json) ?? {};
  const images: GeneratedImage[] = [];
  for (const item of asArray(body['data'])) {
    const entry = asRecord(item);
    if (!entry) continue;
    const b64 = asText(entry['b64_json']);
    const image = compact<GeneratedImage>({
      url: asText(entry['url']),
      b64Json: b64 === undefined ? undefined : stripDataUrlPrefix(b64),
      revisedPrompt: asText(entry['revised_prompt']),
    });
    if (image.url !== undefined || image.b64Json !== undefined) images.push(image);
  }
  if (images.length === 0) {
    throw new UpstreamError({
      kind: 'rejected',
      httpStatus,
      ...(requestId !== undefined ? { requestId } : {}),
      message: `images: HTTP ${httpStatus} without any image (empty data; usually a silent content filter)`,
    });
  }
  const result: ImageResult = { images };
  const created = asNumber(body['created']);
  if (created !== undefined) result.created = created;
  const usage = asRecord(body['usage']);
  if (usage) {
    result.usage = compact<ImageUsage>({
      inputTokens: asNumber(usage['input_tokens'] ?? usage['prompt_tokens']),
      outputTokens: asNumber(usage['output_tokens'] ?? usage['completion_tokens']),
      totalTokens: asNumber(usage['total_tokens']),
    });
  }
  const outputFormat = asText(body['output_format']);
  if (outputFormat !== undefined) result.outputFormat = outputFormat;
  return result;
}

function stripDataUrlPrefix(value: string): string {
  if (!value.startsWith('data:')) return value;
  const comma = value.indexOf(',');
  return comma === -1 ? value : value.slice(comma + 1);
}
