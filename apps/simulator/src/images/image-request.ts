import { findModel, type CatalogModel } from '../catalog';
import {
  contentPolicyViolation,
  gatewayError,
  insufficientUserQuota,
  modelNotFound,
  upstreamError,
  type OpenAIErrorBody,
} from '../errors';
import { findBannedWord } from '../prompt';
import type { SimulatorState } from '../state';

/** A validated image request, the same for generations and edits. */
export type ImageJob = {
  model: CatalogModel;
  prompt: string;
  n: number;
  size: string;
  quality: string;
  responseFormat: string;
  background: string;
  /** sha256 (hex) of each input image; empty for generations. */
  inputSha256s: string[];
};

export type RawImageRequest = {
  model?: unknown;
  prompt?: unknown;
  n?: unknown;
  size?: unknown;
  quality?: unknown;
  response_format?: unknown;
  background?: unknown;
};

export type ImageCheck = { ok: true; job: ImageJob } | { ok: false; status: number; body: OpenAIErrorBody };

const IMAGE_FAMILIES = new Set(['dalle', 'gpt-image', 'gateway-image', 'gemini-image']);
const DALLE2_SIZES = ['256x256', '512x512', '1024x1024'];
const DALLE3_SIZES = ['1024x1024', '1024x1792', '1792x1024'];

const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

const fail = (status: number, body: OpenAIErrorBody): ImageCheck => ({ ok: false, status, body });

/**
 * The checks in the gateway's order: distributor (503), relay validation (500 E2, NA
 * `relay/helper/valid_request.go`), quota pre-consume (403), then what the upstream refuses (400).
 */
export function checkImageRequest(
  state: SimulatorState,
  raw: RawImageRequest,
  input: { isEdit: boolean; inputSha256s: string[] },
  requestId: string,
): ImageCheck {
  const modelId = str(raw.model);
  const model = findModel(modelId);
  if (modelId !== '' && !model) return fail(503, modelNotFound(modelId, requestId));
  if (!model) return fail(500, gatewayError('model is required', 'invalid_request', requestId));

  let size = str(raw.size);
  let quality = str(raw.quality);
  if (size.includes('×')) {
    return fail(500, gatewayError("size an unexpected error occurred in the parameter, please use 'x' instead of the multiplication sign '×'", 'invalid_request', requestId));
  }
  if (model.id === 'dall-e-2' || model.id === 'dall-e') {
    if (size !== '' && !DALLE2_SIZES.includes(size)) {
      return fail(500, gatewayError('size must be one of 256x256, 512x512, or 1024x1024 for dall-e-2 or dall-e', 'invalid_request', requestId));
    }
    size ||= '1024x1024';
  } else if (model.id === 'dall-e-3') {
    if (size !== '' && !DALLE3_SIZES.includes(size)) {
      return fail(500, gatewayError('size must be one of 1024x1024, 1024x1792 or 1792x1024 for dall-e-3', 'invalid_request', requestId));
    }
    quality ||= 'standard';
    size ||= '1024x1024';
  } else if (model.family === 'gpt-image') {
    quality ||= 'auto';
  }
  const n = Math.max(1, Math.floor(Number(raw.n ?? 1)) || 1);

  const cost = n * state.options.imageCostQuota;
  if (!state.balance.canAfford(cost)) return fail(403, insufficientUserQuota(state.balance.available, requestId));

  if (input.isEdit && input.inputSha256s.length === 0) {
    return fail(400, upstreamError({ message: "Missing required parameter: 'image'.", type: 'invalid_request_error', param: 'image', code: 'missing_required_parameter' }));
  }
  const upstreamRefusal = checkUpstream(model, str(raw.prompt), n);
  if (upstreamRefusal) return fail(400, upstreamRefusal);
  if (findBannedWord(str(raw.prompt), state.options.bannedWords)) return fail(400, contentPolicyViolation());

  return {
    ok: true,
    job: {
      model,
      prompt: str(raw.prompt),
      n,
      size: size || '1024x1024',
      quality,
      responseFormat: str(raw.response_format) || 'url',
      background: str(raw.background) || 'opaque',
      inputSha256s: input.inputSha256s,
    },
  };
}

function checkUpstream(model: CatalogModel, prompt: string, n: number): OpenAIErrorBody | null {
  if (!IMAGE_FAMILIES.has(model.family)) {
    return upstreamError({ message: `Invalid value: '${model.id}'. Value must be an image model.`, type: 'invalid_request_error', param: 'model', code: 'invalid_value' });
  }
  if (prompt === '') {
    return upstreamError({ message: "Missing required parameter: 'prompt'.", type: 'invalid_request_error', param: 'prompt', code: 'missing_required_parameter' });
  }
  if (model.id === 'dall-e-3' && n > 1) {
    return upstreamError({ message: 'You must provide n=1 for this model.', type: 'invalid_request_error', param: null, code: null });
  }
  if (n > 10) {
    return upstreamError({
      message: `Invalid 'n': integer above maximum value. Expected a value <= 10, but got ${n} instead.`,
      type: 'invalid_request_error',
      param: 'n',
      code: 'integer_above_max_value',
    });
  }
  return null;
}
