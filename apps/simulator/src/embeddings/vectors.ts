import { endianness } from 'node:os';
import { sha256Bytes } from '../hash';

/**
 * Deterministic embeddings. WARNING: tests in other packages recompute expected vectors with
 * `expectedEmbedding`; changing the derivation changes every expected vector.
 *
 * A vector is derived from `${model}|${text}` only: sha256 seeds an sfc32 generator whose uniform
 * draws in [-1, 1) are the raw coordinates. Values are float32 (`Math.fround`), so the JSON float
 * answer and the base64 (little-endian float32) answer decode to exactly the same numbers.
 *
 * - OpenAI-style models: the first `dimensions` raw coordinates, L2-normalised, like OpenAI's
 *   shortened embeddings (truncate then renormalise).
 * - Gemini models (`gemini-embedding-*`, `text-embedding-004`, `embedding-001`): the full vector is
 *   normalised; a smaller `outputDimensionality` is its prefix, NOT renormalised, as Google documents.
 */

/** Default (and maximum) dimensions per model; unknown embedding models get 1536. */
export const EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'gemini-embedding-001': 3072,
  'text-embedding-004': 768,
  'embedding-001': 768,
};

export const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

/** Most inputs OpenAI accepts in one `/v1/embeddings` request. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Most tokens in one input (OpenAI embedding models). */
export const MAX_EMBEDDING_INPUT_TOKENS = 8192;
/** Most tokens in one request, all inputs together (OpenAI). */
export const MAX_EMBEDDING_REQUEST_TOKENS = 300_000;
/** Most requests in one Gemini `batchEmbedContents` call. */
export const MAX_GEMINI_BATCH_REQUESTS = 100;

/** An input containing this makes its whole request answer 500 every time (a chunk that keeps failing). */
export const EMBEDDING_FAIL_MARKER = 'FAIL_CHUNK';
/** An input containing this makes its request answer 500 the first time this exact request is seen. */
export const EMBEDDING_FAIL_ONCE_MARKER = 'FAIL_ONCE';

const modelName = (model: string): string => model.replace(/^models\//, '');

export const defaultEmbeddingDimensions = (model: string): number => EMBEDDING_DIMENSIONS[modelName(model)] ?? DEFAULT_EMBEDDING_DIMENSIONS;

export const isGeminiEmbeddingModel = (model: string): boolean => {
  const name = modelName(model);
  return name.startsWith('gemini-') || name === 'text-embedding-004' || name === 'embedding-001';
};

/** OpenAI ada-002 has a fixed size: `dimensions` is refused. */
export const acceptsDimensions = (model: string): boolean => modelName(model) !== 'text-embedding-ada-002';

/** Usage the simulator reports: ceil(length / 4) per input (UTF-16 code units), 0 for "". */
export const estimateEmbeddingTokens = (text: string): number => Math.ceil(text.length / 4);

/** The text a token-array input (`[1, 2, 3]`) is embedded as; its usage is the array's length. */
export const tokenArrayText = (tokens: readonly number[]): string => `tokens:${tokens.join(',')}`;

/** Raw coordinates: sfc32 seeded from sha256(`${model}|${text}`), uniform in [-1, 1). */
function rawCoordinates(model: string, text: string, count: number): Float64Array {
  const seed = sha256Bytes(`${modelName(model)}|${text}`);
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 1) {
    // sfc32
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    out[i] = (t >>> 0) / 2_147_483_648 - 1;
  }
  return out;
}

function l2(values: Float64Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i += 1) sum += (values[i] as number) * (values[i] as number);
  return Math.sqrt(sum) || 1;
}

/** The simulator's vector as a Float32Array (what `expectedEmbedding` returns, before widening). */
export function expectedEmbeddingF32(model: string, text: string, dimensions?: number): Float32Array {
  const full = defaultEmbeddingDimensions(model);
  const count = dimensions ?? full;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`dimensions must be a positive integer, got ${String(dimensions)}`);
  const isGemini = isGeminiEmbeddingModel(model);
  const raw = rawCoordinates(model, text, isGemini ? Math.max(count, full) : count);
  const norm = l2(raw, isGemini ? full : count);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 1) out[i] = (raw[i] as number) / norm;
  return out;
}

/**
 * The vector the simulator answers for `text` under `model` (`models/` prefix ignored), with
 * `dimensions` coordinates (default: the model's). Float32 values as plain numbers.
 */
export function expectedEmbedding(model: string, text: string, dimensions?: number): number[] {
  return Array.from(expectedEmbeddingF32(model, text, dimensions));
}

const IS_LITTLE_ENDIAN = endianness() === 'LE';

/** Little-endian float32, base64: OpenAI's `encoding_format: "base64"`. */
export function encodeEmbeddingBase64(values: readonly number[] | Float32Array): string {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  if (IS_LITTLE_ENDIAN) return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString('base64');
  const bytes = Buffer.allocUnsafe(f32.length * 4);
  for (let i = 0; i < f32.length; i += 1) bytes.writeFloatLE(f32[i] as number, i * 4);
  return bytes.toString('base64');
}

export function decodeEmbeddingBase64(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Array<number>(bytes.length >>> 2);
  for (let i = 0; i < out.length; i += 1) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
