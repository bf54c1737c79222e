import { UpstreamError } from './errors';
import type { CallOptions, UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, asText, compact } from './lenient';
import { parseJsonResponse } from './response';

/** Native Gemini image generation ("nano banana"): `POST /v1beta/models/{model}:generateContent` (§7). */

export interface GeminiInputImage {
  mimeType: string;
  data: Buffer;
}

export interface GeminiGenerateRequest {
  prompt: string;
  images?: GeminiInputImage[];
  /** `1:1`, `16:9`, … (`generationConfig.imageConfig.aspectRatio`). */
  aspectRatio?: string;
  /** `1K`, `2K`, `4K` on models that support it. */
  imageSize?: string;
  /** Defaults to `["TEXT","IMAGE"]`. */
  responseModalities?: string[];
  /** Merged into `generationConfig` (explicit fields above win). */
  generationConfig?: Record<string, unknown>;
}

export type GeminiPart = { text: string } | { inlineData: { mimeType: string; data: string } };

export interface GeminiUsage {
  promptTokens?: number;
  candidatesTokens?: number;
  totalTokens?: number;
}

export interface GeminiResult {
  /** Parts of the first candidate; `thought` parts are left out. `data` is base64. */
  parts: GeminiPart[];
  finishReason?: string;
  /** `promptFeedback.blockReason` when the prompt itself was blocked. */
  blockReason?: string;
  usage?: GeminiUsage;
  modelVersion?: string;
}

export interface GeminiApi {
  /** Returns the parts as given; use `requireGeminiImages` when an image is mandatory. */
  generateContent(model: string, request: GeminiGenerateRequest, options?: CallOptions): Promise<GeminiResult>;
}

export function createGeminiApi(http: UpstreamHttp): GeminiApi {
  return {
    async generateContent(model, request, options = {}) {
      const modelId = model.replace(/^models\//, '');
      const res = await http.request({
        ...options,
        method: 'POST',
        path: `/v1beta/models/${encodeURIComponent(modelId)}:generateContent`,
        json: buildGeminiBody(request),
        profile: 'long',
      });
      return parseGeminiResponse(parseJsonResponse(res, 'gemini.generateContent'));
    },
  };
}

export function buildGeminiBody(request: GeminiGenerateRequest): Record<string, unknown> {
  const parts: unknown[] = [{ text: request.prompt }];
  for (const image of request.images ?? []) {
    parts.push({ inlineData: { mimeType: image.mimeType, data: image.data.toString('base64') } });
  }
  const imageConfig = compact({ aspectRatio: request.aspectRatio, imageSize: request.imageSize });
  const extraConfig = request.generationConfig ?? {};
  const generationConfig: Record<string, unknown> = {
    ...extraConfig,
    responseModalities: request.responseModalities ?? ['TEXT', 'IMAGE'],
  };
  if (Object.keys(imageConfig).length > 0) {
    generationConfig['imageConfig'] = { ...(asRecord(extraConfig['imageConfig']) ?? {}), ...imageConfig };
  }
  return { contents: [{ role: 'user', parts }], generationConfig };
}

/** Lenient reader: accepts `inlineData`/`inline_data` and `mimeType`/`mime_type`. */
export function parseGeminiResponse(json: unknown): GeminiResult {
  const body = asRecord(json) ?? {};
  const candidate = asRecord(asArray(body['candidates'])[0]);
  const content = asRecord(candidate?.['content']);
  const parts: GeminiPart[] = [];
  for (const item of asArray(content?.['parts'])) {
    const part = asRecord(item);
    // Thinking models also return draft ("thought") images and text; they are not the answer.
    if (!part || part['thought'] === true) continue;
    const inline = asRecord(part['inlineData'] ?? part['inline_data']);
    if (inline) {
      const data = asText(inline['data']);
      const mimeType = asText(inline['mimeType'] ?? inline['mime_type']) ?? 'application/octet-stream';
      if (data !== undefined) parts.push({ inlineData: { mimeType, data } });
      continue;
    }
    const text = part['text'];
    if (typeof text === 'string' && text !== '') parts.push({ text });
  }
  const result: GeminiResult = { parts };
  const finishReason = asText(candidate?.['finishReason'] ?? candidate?.['finish_reason']);
  if (finishReason !== undefined) result.finishReason = finishReason;
  const feedback = asRecord(body['promptFeedback'] ?? body['prompt_feedback']);
  const blockReason = asText(feedback?.['blockReason'] ?? feedback?.['block_reason']);
  if (blockReason !== undefined) result.blockReason = blockReason;
  const usage = asRecord(body['usageMetadata'] ?? body['usage_metadata']);
  if (usage) {
    result.usage = compact<GeminiUsage>({
      promptTokens: asNumber(usage['promptTokenCount']),
      candidatesTokens: asNumber(usage['candidatesTokenCount']),
      totalTokens: asNumber(usage['totalTokenCount']),
    });
  }
  const modelVersion = asText(body['modelVersion']);
  if (modelVersion !== undefined) result.modelVersion = modelVersion;
  return result;
}

/**
 * The image parts of a result. No image (safety block, `IMAGE_SAFETY`, text-only answer) is a
 * `rejected` UpstreamError whose `upstreamCode` is the block or finish reason.
 */
export function requireGeminiImages(result: GeminiResult): Array<{ mimeType: string; data: string }> {
  const images: Array<{ mimeType: string; data: string }> = [];
  for (const part of result.parts) if ('inlineData' in part) images.push(part.inlineData);
  if (images.length > 0) return images;
  const reason = result.blockReason ?? result.finishReason;
  throw new UpstreamError({
    kind: 'rejected',
    httpStatus: 200,
    ...(reason !== undefined ? { upstreamCode: reason } : {}),
    message: `gemini answered without an image${reason !== undefined ? ` (${result.blockReason !== undefined ? 'blockReason' : 'finishReason'} ${reason})` : ''}`,
  });
}
