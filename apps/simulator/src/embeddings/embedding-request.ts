import { asArray, asObject, asString, type JsonObject } from '../body';
import { findModel } from '../catalog';
import { gatewayAbort, gatewayError, geminiUpstreamError, modelNotFound, upstreamError, type OpenAIErrorBody } from '../errors';
import {
  acceptsDimensions,
  defaultEmbeddingDimensions,
  estimateEmbeddingTokens,
  MAX_EMBEDDING_INPUT_TOKENS,
  MAX_EMBEDDING_INPUTS,
  MAX_EMBEDDING_REQUEST_TOKENS,
  MAX_GEMINI_BATCH_REQUESTS,
  tokenArrayText,
} from './vectors';

/** One input to embed: the text its vector derives from and the tokens it is billed. */
export type EmbeddingInput = { text: string; tokens: number };

export type OpenAIEmbeddingJob = {
  model: string;
  inputs: EmbeddingInput[];
  dimensions: number;
  /** `dimensions` was given (the answer is shortened). */
  isShortened: boolean;
  encoding: 'float' | 'base64';
};

export type GeminiEmbeddingJob = { model: string; inputs: EmbeddingInput[]; dimensions: number[] };

export type Checked<T> = { ok: true; job: T } | { ok: false; status: number; body: OpenAIErrorBody; inputs: number };

const fail = (status: number, body: OpenAIErrorBody, inputs = 0): { ok: false; status: number; body: OpenAIErrorBody; inputs: number } => ({
  ok: false,
  status,
  body,
  inputs,
});

const invalidInput = (message: string, param: string | null = null): OpenAIErrorBody =>
  upstreamError({ message, type: 'invalid_request_error', param, code: null });

const isTokenArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isInteger(v));

/**
 * `input` as OpenAI takes it: a string, an array of strings, an array of token ids, or an array
 * of token-id arrays. Returns null when an item is of the wrong type or empty.
 */
function readOpenAIInputs(input: unknown): EmbeddingInput[] | null {
  if (typeof input === 'string') return [{ text: input, tokens: estimateEmbeddingTokens(input) }];
  if (isTokenArray(input)) return [{ text: tokenArrayText(input), tokens: input.length }];
  if (!Array.isArray(input)) return null;
  const out: EmbeddingInput[] = [];
  for (const item of input) {
    if (typeof item === 'string' && item !== '') out.push({ text: item, tokens: estimateEmbeddingTokens(item) });
    else if (isTokenArray(item)) out.push({ text: tokenArrayText(item), tokens: item.length });
    else return null;
  }
  return out;
}

const isEmptyInput = (input: unknown): boolean => input === undefined || input === null || input === '' || (Array.isArray(input) && input.length === 0);

/**
 * `POST /v1/embeddings` checks in the gateway's order: model present (400 E1), channel (503 E1),
 * input present (500 E2 `input is empty`), then what OpenAI refuses (400 E2 relayed).
 */
export function checkOpenAIEmbedding(body: JsonObject, pathModel: string, requestId: string): Checked<OpenAIEmbeddingJob> {
  const modelId = asString(body['model']) || pathModel;
  if (modelId === '') return fail(400, gatewayAbort('Model name not specified, model name cannot be empty', requestId));
  const model = findModel(modelId);
  if (!model) return fail(503, modelNotFound(modelId, requestId));
  const rawInput = body['input'];
  if (isEmptyInput(rawInput)) return fail(500, gatewayError('input is empty', 'invalid_request', requestId));
  const count = Array.isArray(rawInput) && !isTokenArray(rawInput) ? rawInput.length : 1;
  if (model.family !== 'embedding') {
    return fail(400, invalidInput('This is not an embedding model and thus not supported in the v1/embeddings endpoint.', 'model'), count);
  }
  if (count > MAX_EMBEDDING_INPUTS) {
    return fail(400, invalidInput(`Too many inputs. The max number of inputs is ${MAX_EMBEDDING_INPUTS}.`, 'input'), count);
  }
  const inputs = readOpenAIInputs(rawInput);
  if (!inputs) return fail(400, invalidInput("'$.input' is invalid. Please check the API reference."), count);

  const format = body['encoding_format'] ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return fail(400, invalidInput(`Invalid value for 'encoding_format' = ${String(format)}. Supported values are: 'float' and 'base64'.`, 'encoding_format'), count);
  }
  const maxDimensions = defaultEmbeddingDimensions(modelId);
  let dimensions = maxDimensions;
  const isShortened = body['dimensions'] !== undefined && body['dimensions'] !== null;
  if (isShortened) {
    if (!acceptsDimensions(modelId)) return fail(400, invalidInput('This model does not support specifying dimensions.', 'dimensions'), count);
    const requested = body['dimensions'];
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1 || requested > maxDimensions) {
      return fail(400, invalidInput(`Invalid value for 'dimensions' = ${String(requested)}. Must be between 1 and ${maxDimensions}.`, 'dimensions'), count);
    }
    dimensions = requested;
  }
  let total = 0;
  for (const input of inputs) {
    if (input.tokens > MAX_EMBEDDING_INPUT_TOKENS) {
      return fail(
        400,
        invalidInput(
          `This model's maximum context length is ${MAX_EMBEDDING_INPUT_TOKENS} tokens, however you requested ${input.tokens} tokens (${input.tokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
        ),
        count,
      );
    }
    total += input.tokens;
  }
  if (total > MAX_EMBEDDING_REQUEST_TOKENS) {
    return fail(
      400,
      upstreamError({ message: `Requested ${total} tokens, max ${MAX_EMBEDDING_REQUEST_TOKENS} tokens per request`, type: 'max_tokens_per_request', param: null, code: 'max_tokens_per_request' }),
      count,
    );
  }
  return { ok: true, job: { model: modelId, inputs, dimensions, isShortened, encoding: format } };
}

const geminiBad = (message: string): OpenAIErrorBody => geminiUpstreamError(400, message);

/** Text of a Gemini `content` (`{parts:[{text}]}`); null when it has no text. */
function readContentText(content: unknown): string | null {
  const texts = asArray(asObject(content)['parts'])
    .map((p) => asObject(p)['text'])
    .filter((t): t is string => typeof t === 'string');
  const text = texts.join('');
  return text === '' ? null : text;
}

function readDimensions(request: JsonObject, full: number, field: string): number | string {
  const value = request['outputDimensionality'] ?? request['output_dimensionality'];
  if (value === undefined || value === null) return full;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > full) {
    return `* ${field}.output_dimensionality: must be between 1 and ${full}\n`;
  }
  return value;
}

/**
 * Native Gemini `:embedContent` (one `content`) and `:batchEmbedContents` (`requests[]`, at most
 * 100). Errors are Google's, relayed as E2 with a numeric `code`.
 */
export function checkGeminiEmbedding(body: JsonObject, modelId: string, isBatch: boolean, requestId: string): Checked<GeminiEmbeddingJob> {
  const model = findModel(modelId);
  if (!model) return fail(503, modelNotFound(modelId, requestId));
  const method = isBatch ? 'batchEmbedContents' : 'embedContent';
  const requests = isBatch ? asArray(body['requests']).map(asObject) : [body];
  if (model.family !== 'embedding') {
    return fail(
      404,
      geminiUpstreamError(404, `models/${modelId} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`),
      requests.length,
    );
  }
  if (isBatch && requests.length === 0) return fail(400, geminiBad('* BatchEmbedContentsRequest.requests: at least one request is required\n'));
  if (requests.length > MAX_GEMINI_BATCH_REQUESTS) {
    return fail(400, geminiBad(`* BatchEmbedContentsRequest.requests: at most ${MAX_GEMINI_BATCH_REQUESTS} requests can be in one batch\n`), requests.length);
  }
  const full = defaultEmbeddingDimensions(modelId);
  const inputs: EmbeddingInput[] = [];
  const dimensions: number[] = [];
  for (const [index, request] of requests.entries()) {
    const field = isBatch ? `BatchEmbedContentsRequest.requests[${index}]` : 'EmbedContentRequest';
    const text = readContentText(request['content']);
    if (text === null) return fail(400, geminiBad(`* ${field}.content: contents must not be empty\n`), requests.length);
    const dims = readDimensions(request, full, field);
    if (typeof dims === 'string') return fail(400, geminiBad(dims), requests.length);
    inputs.push({ text, tokens: estimateEmbeddingTokens(text) });
    dimensions.push(dims);
  }
  return { ok: true, job: { model: modelId, inputs, dimensions } };
}
