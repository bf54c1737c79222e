import { endianness } from 'node:os';
import { UpstreamError } from './errors';
import type { CallOptions, HttpResponse, UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, compact } from './lenient';
import { parseJsonResponse } from './response';

/**
 * Embeddings (docs/gateway.md §3): OpenAI `POST /v1/embeddings` and native Gemini
 * `POST /v1beta/models/{model}:batchEmbedContents`. One call = one gateway request: callers chunk
 * (OpenAI takes at most 2048 inputs and 300 000 tokens a request, Gemini 100 requests a batch).
 * Calls use the `long` timeout profile (`imageMs`, 300 s by default).
 */

export interface EmbeddingRequest {
  model: string;
  /** One or more texts; the answer's vectors come back in this order. */
  input: string[];
  /** Shortened embeddings (text-embedding-3-*); refused by ada-002. */
  dimensions?: number;
  /**
   * Default `base64` (as the OpenAI SDKs do): float32 little-endian, about a third of the JSON
   * size. Both encodings decode to plain numbers; a gateway that ignores the setting is fine.
   */
  encodingFormat?: 'float' | 'base64';
  user?: string;
  /** Other body keys; the named fields win. */
  extra?: Record<string, unknown>;
}

export interface GeminiEmbeddingRequest {
  /** `gemini-embedding-001`, … (a `models/` prefix is removed). */
  model: string;
  inputs: string[];
  /** `outputDimensionality`. Google does not renormalise shortened vectors. */
  dimensions?: number;
  /** `RETRIEVAL_DOCUMENT`, `RETRIEVAL_QUERY`, `SEMANTIC_SIMILARITY`, … */
  taskType?: string;
  /** With `taskType: RETRIEVAL_DOCUMENT` only. */
  title?: string;
}

export interface EmbeddingUsage {
  promptTokens: number;
  totalTokens: number;
  /** True when the answer carried no usage and the figures come from `approxTokenCount` (Gemini never reports any). */
  estimated?: boolean;
}

export interface EmbeddingResult {
  /** One vector per input, in input order (OpenAI answers are placed by their `index`). */
  vectors: number[][];
  usage: EmbeddingUsage;
  /** The `model` the answer names (OpenAI format only). */
  model?: string;
}

export interface EmbeddingsApi {
  /** `POST /v1/embeddings`. Throws UpstreamError; an answer that does not match the inputs is `retryable`. */
  create(request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResult>;
  /** `POST /v1beta/models/{model}:batchEmbedContents`. Throws UpstreamError like `create`. */
  gemini(request: GeminiEmbeddingRequest, options?: CallOptions): Promise<EmbeddingResult>;
}

/** Rough token count for budgets and for usage the gateway did not report: ceil(length / 4). */
export const approxTokenCount = (text: string): number => Math.ceil(text.length / 4);

const estimatedUsage = (inputs: readonly string[]): EmbeddingUsage => {
  const tokens = inputs.reduce((sum, text) => sum + approxTokenCount(text), 0);
  return { promptTokens: tokens, totalTokens: tokens, estimated: true };
};

export function createEmbeddingsApi(http: UpstreamHttp): EmbeddingsApi {
  return {
    async create(request, options = {}) {
      if (request.input.length === 0) throw new TypeError('embeddings.create needs at least one input');
      const body = {
        ...request.extra,
        ...compact({
          model: request.model,
          input: request.input,
          encoding_format: request.encodingFormat ?? 'base64',
          dimensions: request.dimensions,
          user: request.user,
        }),
      };
      const res = await http.request({ ...options, method: 'POST', path: '/v1/embeddings', json: body, profile: 'long' });
      return parseEmbeddingResponse(parseJsonResponse(res, 'embeddings.create'), request.input, res);
    },

    async gemini(request, options = {}) {
      if (request.inputs.length === 0) throw new TypeError('embeddings.gemini needs at least one input');
      const modelId = request.model.replace(/^models\//, '');
      const requests = request.inputs.map((text) =>
        compact({
          model: `models/${modelId}`,
          content: { parts: [{ text }] },
          taskType: request.taskType,
          title: request.title,
          outputDimensionality: request.dimensions,
        }),
      );
      const res = await http.request({
        ...options,
        method: 'POST',
        path: `/v1beta/models/${encodeURIComponent(modelId)}:batchEmbedContents`,
        json: { requests },
        profile: 'long',
      });
      return parseGeminiEmbeddingResponse(parseJsonResponse(res, 'embeddings.gemini'), request.inputs, res);
    },
  };
}

const IS_LITTLE_ENDIAN = endianness() === 'LE';

/** Decodes `encoding_format: "base64"`: little-endian float32. */
export function decodeBase64Embedding(value: string): number[] {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length % 4 !== 0) throw new RangeError(`base64 embedding of ${bytes.length} bytes is not a float32 array`);
  if (IS_LITTLE_ENDIAN) {
    // Copy into an aligned buffer (small Buffers share a pool at arbitrary offsets), then widen.
    const f32 = new Float32Array(bytes.length / 4);
    new Uint8Array(f32.buffer).set(bytes);
    return Array.from(f32);
  }
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i += 1) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

function badAnswer(res: Pick<HttpResponse, 'status' | 'requestId'> | undefined, message: string): UpstreamError {
  return new UpstreamError({
    kind: 'retryable',
    message,
    ...(res ? { httpStatus: res.status } : {}),
    ...(res?.requestId !== undefined ? { requestId: res.requestId } : {}),
  });
}

function readVector(value: unknown): number[] | undefined {
  if (typeof value === 'string') {
    try {
      return decodeBase64Embedding(value);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) return undefined;
  return value as number[];
}

/**
 * Lenient reader for `EmbeddingResponse`: places each `data[]` item by its `index` (by position
 * when absent), decodes base64 vectors, and checks there is exactly one vector per input.
 */
export function parseEmbeddingResponse(json: unknown, inputs: readonly string[], res?: Pick<HttpResponse, 'status' | 'requestId'>): EmbeddingResult {
  const body = asRecord(json) ?? {};
  const data = asArray(body['data']);
  const vectors = new Array<number[] | undefined>(inputs.length);
  for (const [position, item] of data.entries()) {
    const entry = asRecord(item);
    const index = asNumber(entry?.['index']) ?? position;
    const vector = readVector(entry?.['embedding']);
    if (!Number.isInteger(index) || index < 0 || index >= inputs.length) {
      throw badAnswer(res, `embeddings: answer has index ${index} for ${inputs.length} inputs`);
    }
    if (vectors[index] !== undefined) throw badAnswer(res, `embeddings: answer repeats index ${index}`);
    if (!vector || vector.length === 0) throw badAnswer(res, `embeddings: answer item ${index} has no vector`);
    vectors[index] = vector;
  }
  const missing = vectors.findIndex((v) => v === undefined);
  if (data.length !== inputs.length || missing !== -1) {
    throw badAnswer(res, `embeddings: answer has ${data.length} vectors for ${inputs.length} inputs`);
  }
  const usage = asRecord(body['usage']);
  const promptTokens = asNumber(usage?.['prompt_tokens']);
  const result: EmbeddingResult = {
    vectors: vectors as number[][],
    usage: promptTokens === undefined ? estimatedUsage(inputs) : { promptTokens, totalTokens: asNumber(usage?.['total_tokens']) ?? promptTokens },
  };
  const model = body['model'];
  if (typeof model === 'string' && model !== '') result.model = model;
  return result;
}

/** Reader for `batchEmbedContents` (`{embeddings:[{values}]}`) and `embedContent` (`{embedding:{values}}`). */
export function parseGeminiEmbeddingResponse(json: unknown, inputs: readonly string[], res?: Pick<HttpResponse, 'status' | 'requestId'>): EmbeddingResult {
  const body = asRecord(json) ?? {};
  const single = asRecord(body['embedding']);
  const items = single ? [single] : asArray(body['embeddings']);
  if (items.length !== inputs.length) throw badAnswer(res, `embeddings: answer has ${items.length} vectors for ${inputs.length} inputs`);
  const vectors = items.map((item, index) => {
    const vector = readVector(asRecord(item)?.['values']);
    if (!vector || vector.length === 0) throw badAnswer(res, `embeddings: answer item ${index} has no vector`);
    return vector;
  });
  const usage = asRecord(body['usageMetadata'] ?? body['usage_metadata']);
  const promptTokens = asNumber(usage?.['promptTokenCount']);
  return {
    vectors,
    usage: promptTokens === undefined ? estimatedUsage(inputs) : { promptTokens, totalTokens: asNumber(usage?.['totalTokenCount']) ?? promptTokens },
  };
}
