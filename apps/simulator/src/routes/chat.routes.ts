import { Router, type Response } from 'express';
import { asArray, asObject, asString } from '../body';
import { buildChatScript, CHAT_FAMILIES, type ChatPrompt, type ChatScript } from '../chat/chat-script';
import { findModel } from '../catalog';
import { gatewayAbort, gatewayError, insufficientUserQuota, modelNotFound, upstreamError } from '../errors';
import { sha256Hex } from '../hash';
import { publicBaseUrl, requestIdOf } from '../middleware/locals';
import { relayRoute } from '../middleware/route-guards';
import { estimateTokens } from '../prompt';
import { openSse, pause, sendSseData, sendSsePing } from '../sse';
import type { SimulatorState } from '../state';
import { chargeTokens } from '../pricing';

/** `POST /v1/chat/completions`: SSE with media markdown when `stream` is true (docs/gateway.md §6). */
export function chatRoutes(state: SimulatorState): Router {
  const router = Router();
  router.post('/v1/chat/completions', ...relayRoute(state, 'chat.completions'), async (req, res) => {
    const requestId = requestIdOf(res);
    const body = asObject(req.body);
    const modelId = asString(body['model']);
    if (modelId === '') {
      res.status(400).json(gatewayAbort('Model name not specified, model name cannot be empty', requestId));
      return;
    }
    const model = findModel(modelId);
    if (!model) {
      res.status(503).json(modelNotFound(modelId, requestId));
      return;
    }
    const messages = asArray(body['messages']);
    if (messages.length === 0) {
      res.status(500).json(gatewayError('field messages is required', 'invalid_request', requestId));
      return;
    }
    if (!CHAT_FAMILIES.has(model.family)) {
      res.status(400).json(
        upstreamError({
          message: 'This is not a chat model and thus not supported in the v1/chat/completions endpoint.',
          type: 'invalid_request_error',
          param: 'model',
          code: null,
        }),
      );
      return;
    }
    const isMedia = model.family !== 'chat-text' && model.family !== 'gemini-text';
    if (isMedia && !state.balance.canAfford(state.options.imageCostQuota)) {
      res.status(403).json(insufficientUserQuota(state.balance.available, requestId));
      return;
    }
    const prompt = readPrompt(messages);
    const script = buildChatScript(state, model, prompt, publicBaseUrl(state, req));
    const reply = { id: `chatcmpl-${state.ids.id('', 29)}`, created: state.clock.nowSec(), model: model.id };
    const usage = usageOf(prompt, script);
    // billed by tokens like every chat answer (media in the answer are completion tokens)
    chargeTokens(state, model.id, usage.prompt_tokens, usage.completion_tokens);
    if (body['stream'] === true) await streamScript(state, res, reply, script, usage);
    else await answerScript(state, res, reply, script, usage);
  });
  return router;
}

type ReplyHead = { id: string; created: number; model: string };
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** Text of the last user message; images in `image_url` parts (data URLs) feed the media seed. */
function readPrompt(messages: unknown[]): ChatPrompt {
  const users = messages.map(asObject).filter((m) => asString(m['role']) === 'user');
  const content = users[users.length - 1]?.['content'];
  if (typeof content === 'string') return { text: content, inputSha256s: [] };
  const parts = asArray(content).map(asObject);
  const text = parts.map((p) => asString(p['text'])).filter(Boolean).join('\n');
  const inputSha256s = parts
    .map((p) => asString(asObject(p['image_url'])['url']) || asString(p['image_url']))
    .filter((url) => url !== '')
    .map((url) => sha256Hex(url.startsWith('data:') ? Buffer.from(url.slice(url.indexOf(',') + 1), 'base64') : Buffer.from(url, 'utf8')));
  return { text, inputSha256s };
}

const usageOf = (prompt: ChatPrompt, script: ChatScript): Usage => {
  const promptTokens = estimateTokens(prompt.text) + prompt.inputSha256s.length * 258;
  return { prompt_tokens: promptTokens, completion_tokens: script.completionTokens, total_tokens: promptTokens + script.completionTokens };
};

async function streamScript(state: SimulatorState, res: Response, head: ReplyHead, script: ChatScript, usage: Usage): Promise<void> {
  const chunk = (delta: Record<string, string>, finishReason: string | null, extra: Record<string, unknown> = {}) => ({
    ...head,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...extra,
  });
  openSse(res);
  sendSseData(res, chunk({ role: 'assistant', content: '' }, null));
  for (const { content, isPaced } of script.steps) {
    if (isPaced) {
      if (state.options.ssePing) sendSsePing(res);
      if (!(await pause(res, state.durationMs(state.options.streamStepMs)))) return;
    }
    sendSseData(res, chunk({ content }, null));
  }
  sendSseData(res, chunk({}, script.finishReason, { usage }));
  sendSseData(res, '[DONE]');
  res.end();
}

/** A plain chat.completion, sent after the same simulated time a stream would take. */
async function answerScript(state: SimulatorState, res: Response, head: ReplyHead, script: ChatScript, usage: Usage): Promise<void> {
  const pacedSteps = script.steps.filter((s) => s.isPaced).length;
  if (pacedSteps > 0 && !(await pause(res, state.durationMs(state.options.streamStepMs * pacedSteps)))) return;
  res.json({
    ...head,
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: script.steps.map((s) => s.content).join('') }, finish_reason: script.finishReason }],
    usage,
  });
}

