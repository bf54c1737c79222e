import { Router, type Request, type Response } from 'express';
import { asObject } from '../body';
import { geminiUpstreamError, upstreamServerError, type OpenAIErrorBody } from '../errors';
import { sha256Hex } from '../hash';
import { checkGeminiEmbedding, checkOpenAIEmbedding, type EmbeddingInput } from '../embeddings/embedding-request';
import type { EmbeddingRequestRecord } from '../embeddings/embedding-log';
import { EMBEDDING_FAIL_MARKER, EMBEDDING_FAIL_ONCE_MARKER, encodeEmbeddingBase64, expectedEmbedding, expectedEmbeddingF32 } from '../embeddings/vectors';
import { requestIdOf } from '../middleware/locals';
import { meteredRelayRoute } from '../middleware/metered-limit';
import type { SimulatorState } from '../state';
import { chargeTokens } from '../pricing';

/**
 * Embeddings (docs/gateway.md §3): `POST /v1/embeddings` and `/v1/engines/{model}/embeddings`
 * (key `embeddings`), native Gemini `:embedContent` and `:batchEmbedContents` (key
 * `gemini.embed`). Vectors come from `expectedEmbedding`; both keys use the metered limiter.
 */
export function embeddingsRoutes(state: SimulatorState): Router {
  const router = Router();
  const openai = meteredRelayRoute(state, 'embeddings');
  router.post('/v1/embeddings', ...openai, (req, res) => openAIEmbeddings(state, req, res, ''));
  router.post('/v1/engines/:model/embeddings', ...openai, (req, res) => openAIEmbeddings(state, req, res, String(req.params['model'] ?? '')));

  const gemini = meteredRelayRoute(state, 'gemini.embed', 'gemini');
  router.post('/v1beta/models/:model\\:embedContent', ...gemini, (req, res) => geminiEmbeddings(state, req, res, false));
  router.post('/v1beta/models/:model\\:batchEmbedContents', ...gemini, (req, res) => geminiEmbeddings(state, req, res, true));
  return router;
}

type Outcome = Pick<EmbeddingRequestRecord, 'model' | 'inputs' | 'tokens' | 'dimensions' | 'encoding' | 'failure'>;

function record(state: SimulatorState, res: Response, route: EmbeddingRequestRecord['route'], status: number, outcome: Outcome): void {
  state.embeddingLog.add({ route, requestId: requestIdOf(res), atMs: state.clock.now(), status, ...outcome });
}

/** `FAIL_CHUNK` fails every time; `FAIL_ONCE` fails the first time this exact request arrives. */
function plannedFailure(state: SimulatorState, route: string, model: string, inputs: EmbeddingInput[]): 'fail_chunk' | 'fail_once' | undefined {
  if (inputs.some((i) => i.text.includes(EMBEDDING_FAIL_MARKER))) return 'fail_chunk';
  if (!inputs.some((i) => i.text.includes(EMBEDDING_FAIL_ONCE_MARKER))) return undefined;
  const fingerprint = sha256Hex(`${route}|${model}|${inputs.map((i) => i.text).join('\u0000')}`);
  return state.embeddingLog.isFirstFailure(fingerprint) ? 'fail_once' : undefined;
}

function openAIEmbeddings(state: SimulatorState, req: Request, res: Response, pathModel: string): void {
  const body = asObject(req.body);
  const check = checkOpenAIEmbedding(body, pathModel, requestIdOf(res));
  const encoding = body['encoding_format'] === 'base64' ? 'base64' : 'float';
  if (!check.ok) {
    record(state, res, 'embeddings', check.status, { model: String(body['model'] ?? pathModel), inputs: check.inputs, tokens: 0, dimensions: 0, encoding });
    res.status(check.status).json(check.body);
    return;
  }
  const { job } = check;
  const tokens = job.inputs.reduce((sum, i) => sum + i.tokens, 0);
  const outcome: Outcome = { model: job.model, inputs: job.inputs.length, tokens, dimensions: job.dimensions, encoding: job.encoding };
  const failure = plannedFailure(state, 'embeddings', job.model, job.inputs);
  if (failure) {
    record(state, res, 'embeddings', 500, { ...outcome, failure });
    res.status(500).json(upstreamServerError());
    return;
  }
  const dimensions = job.isShortened ? job.dimensions : undefined;
  const data = job.inputs.map((input, index) => ({
    object: 'embedding',
    index,
    embedding:
      job.encoding === 'base64'
        ? encodeEmbeddingBase64(expectedEmbeddingF32(job.model, input.text, dimensions))
        : expectedEmbedding(job.model, input.text, dimensions),
  }));
  record(state, res, 'embeddings', 200, outcome);
  chargeTokens(state, job.model, tokens, 0);
  res.json({ object: 'list', data, model: job.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function geminiEmbeddings(state: SimulatorState, req: Request, res: Response, isBatch: boolean): void {
  const modelId = String(req.params['model'] ?? '').replace(/^models\//, '');
  const check = checkGeminiEmbedding(asObject(req.body), modelId, isBatch, requestIdOf(res));
  if (!check.ok) {
    record(state, res, 'gemini.embed', check.status, { model: modelId, inputs: check.inputs, tokens: 0, dimensions: 0, encoding: 'gemini' });
    res.status(check.status).json(check.body);
    return;
  }
  const { job } = check;
  const tokens = job.inputs.reduce((sum, i) => sum + i.tokens, 0);
  const outcome: Outcome = { model: job.model, inputs: job.inputs.length, tokens, dimensions: Math.max(...job.dimensions), encoding: 'gemini' };
  const failure = plannedFailure(state, 'gemini.embed', job.model, job.inputs);
  if (failure) {
    record(state, res, 'gemini.embed', 500, { ...outcome, failure });
    const error: OpenAIErrorBody = geminiUpstreamError(500, 'Internal error encountered.');
    res.status(500).json(error);
    return;
  }
  const embeddings = job.inputs.map((input, i) => ({ values: expectedEmbedding(job.model, input.text, job.dimensions[i]) }));
  record(state, res, 'gemini.embed', 200, outcome);
  chargeTokens(state, job.model, tokens, 0);
  res.json(isBatch ? { embeddings } : { embedding: embeddings[0] });
}
