import { Router } from 'express';
import { CATALOG, findModel, MODEL_CREATED_SEC, toGeminiModel, toOpenAIModel } from '../catalog';
import { upstreamError } from '../errors';
import { relayRoute } from '../middleware/route-guards';
import type { SimulatorState } from '../state';

const modelMissing = (id: string) =>
  upstreamError({ message: `The model '${id}' does not exist`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });

/** Model lists (docs/gateway.md §2.1, §2.2). Unknown single models answer HTTP 200 with an error body. */
export function modelsRoutes(state: SimulatorState): Router {
  const router = Router();
  const guards = relayRoute(state, 'models');

  router.get('/v1/models', ...guards, (req, res) => {
    if (req.get('x-api-key') && req.get('anthropic-version')) {
      const data = CATALOG.map((m) => ({ id: m.id, type: 'model', display_name: m.id, created_at: new Date(MODEL_CREATED_SEC * 1000).toISOString() }));
      res.json({ data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: false });
      return;
    }
    // A Gemini-style key routes to the gateway's Gemini "retrieve" handler, which has no id here.
    if (req.get('x-goog-api-key') || typeof req.query['key'] === 'string') {
      res.json(modelMissing(''));
      return;
    }
    res.json({ success: true, object: 'list', data: CATALOG.map(toOpenAIModel) });
  });

  router.get('/v1/models/:model', ...guards, (req, res) => {
    const id = String(req.params['model']);
    const model = findModel(id);
    res.json(model ? toOpenAIModel(model) : modelMissing(id));
  });

  router.get('/v1beta/openai/models', ...guards, (_req, res) => {
    res.json({ success: true, object: 'list', data: CATALOG.map(toOpenAIModel) });
  });

  router.get('/v1beta/models', ...guards, (_req, res) => {
    res.json({ models: CATALOG.map(toGeminiModel), nextPageToken: null });
  });

  router.get('/v1beta/models/:model', ...guards, (req, res) => {
    const id = String(req.params['model']).replace(/^models\//, '');
    const model = findModel(id);
    res.json(model ? toGeminiModel(model) : modelMissing(id));
  });

  return router;
}
