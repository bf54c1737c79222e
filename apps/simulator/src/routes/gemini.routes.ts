import { Router, type Request, type Response } from 'express';
import { GEMINI_SPEECH_MIME, readSpeechVoices, renderGeminiSpeech } from '../audio/gemini-speech';
import { asArray, asObject, asString, type JsonObject } from '../body';
import { findModel, type CatalogModel } from '../catalog';
import { gatewayError, geminiUpstreamError, insufficientUserQuota, modelNotFound } from '../errors';
import { sha256Hex } from '../hash';
import { mediaSeed } from '../media/seeds';
import { pngBase64 } from '../media/produce';
import { requestIdOf } from '../middleware/locals';
import { relayRoute } from '../middleware/route-guards';
import { clip, estimateTokens, findBannedWord } from '../prompt';
import { openSse, sendSseData } from '../sse';
import type { SimulatorState } from '../state';
import { chargeTokens } from '../pricing';

/** Token count Gemini reports for one generated image. */
const IMAGE_TOKENS = 1290;

type GeminiPrompt = { text: string; inputSha256s: string[] };

/**
 * Native Gemini (docs/gateway.md §7): `:generateContent` answers JSON, `:streamGenerateContent` is
 * always SSE. Errors use the OpenAI shape E2.
 */
export function geminiRoutes(state: SimulatorState): Router {
  const router = Router();
  const guards = relayRoute(state, 'gemini.generate', 'gemini');
  router.post('/v1beta/models/:model\\:generateContent', ...guards, (req, res) => generate(state, req, res, false));
  router.post('/v1beta/models/:model\\:streamGenerateContent', ...guards, (req, res) => generate(state, req, res, true));
  return router;
}

function generate(state: SimulatorState, req: Request, res: Response, isStream: boolean): void {
  const requestId = requestIdOf(res);
  const modelId = String(req.params['model'] ?? '');
  const model = findModel(modelId);
  if (!model) {
    res.status(503).json(modelNotFound(modelId, requestId));
    return;
  }
  const body = asObject(req.body);
  const contents = asArray(body['contents']);
  if (contents.length === 0 && asArray(body['requests']).length === 0) {
    res.status(500).json(gatewayError('contents is required', 'invalid_request', requestId));
    return;
  }
  const prompt = readPrompt(contents);
  if (model.family === 'gemini-tts') {
    speak(state, model, body, prompt.text, res, isStream);
    return;
  }
  const wantsImage = model.family === 'gemini-image' && allowsImage(body) && !prompt.text.toLowerCase().includes('text only');
  if (wantsImage && !state.balance.canAfford(state.options.imageCostQuota)) {
    res.status(403).json(insufficientUserQuota(state.balance.available, requestId));
    return;
  }
  const answer = buildAnswer(state, model, prompt, wantsImage);
  if (!isStream) {
    res.json(answer.final);
    return;
  }
  openSse(res);
  for (const chunk of answer.chunks) sendSseData(res, chunk);
  res.end();
}

/** Text of the last user turn plus the sha256 of its inline images (camelCase or snake_case). */
function readPrompt(contents: unknown[]): GeminiPrompt {
  const userTurns = contents.map(asObject).filter((c) => asString(c['role']) !== 'model');
  const parts = asArray(userTurns[userTurns.length - 1]?.['parts']).map(asObject);
  const text = parts.map((p) => asString(p['text'])).filter(Boolean).join('\n');
  const inputSha256s = parts
    .map((p) => asObject(p['inlineData'] ?? p['inline_data']))
    .filter((d) => asString(d['data']) !== '')
    .map((d) => sha256Hex(Buffer.from(asString(d['data']), 'base64')));
  return { text, inputSha256s };
}

function allowsImage(body: JsonObject): boolean {
  const config = asObject(body['generationConfig'] ?? body['generation_config']);
  const modalities = asArray(config['responseModalities'] ?? config['response_modalities']);
  return modalities.length === 0 || modalities.some((m) => asString(m).toUpperCase() === 'IMAGE');
}

type GeminiAnswer = { final: JsonObject; chunks: JsonObject[] };

function buildAnswer(state: SimulatorState, model: CatalogModel, prompt: GeminiPrompt, wantsImage: boolean): GeminiAnswer {
  const promptTokens = estimateTokens(prompt.text) + prompt.inputSha256s.length * 258;
  const envelope = { modelVersion: model.id, responseId: state.ids.id('', 22) };
  const promptOnlyUsage = { promptTokenCount: promptTokens, totalTokenCount: promptTokens };

  if (findBannedWord(prompt.text, state.options.bannedWords)) {
    const blocked = {
      candidates: [{ finishReason: model.family === 'gemini-image' ? 'IMAGE_SAFETY' : 'SAFETY', index: 0 }],
      usageMetadata: promptOnlyUsage,
      ...envelope,
    };
    return { final: blocked, chunks: [blocked] };
  }

  const text = wantsImage ? `Here is the image you asked for: ${clip(prompt.text)}` : `Simulated answer: ${clip(prompt.text)}`;
  const textTokens = estimateTokens(text);
  const imagePart = wantsImage ? { inlineData: { mimeType: 'image/png', data: pngBase64(state, mediaSeed(model.id, prompt.text, 0, prompt.inputSha256s)) } } : null;

  const candidatesTokens = textTokens + (imagePart ? IMAGE_TOKENS : 0);
  // billed by the usage it reports, like every token-billed answer
  chargeTokens(state, model.id, promptTokens, candidatesTokens);
  const usageMetadata = {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: promptTokens + candidatesTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
    candidatesTokensDetails: imagePart ? [{ modality: 'IMAGE', tokenCount: IMAGE_TOKENS }] : [{ modality: 'TEXT', tokenCount: textTokens }],
  };
  const candidate = (parts: JsonObject[], isLast: boolean): JsonObject => ({
    content: { role: 'model', parts },
    ...(isLast ? { finishReason: 'STOP' } : {}),
    index: 0,
  });
  const parts: JsonObject[] = imagePart ? [{ text }, imagePart] : [{ text }];
  const final = { candidates: [candidate(parts, true)], usageMetadata, ...envelope };
  const chunks = imagePart
    ? [
        { candidates: [candidate([{ text }], false)], usageMetadata: promptOnlyUsage, ...envelope },
        { candidates: [candidate([imagePart], true)], usageMetadata, ...envelope },
      ]
    : [final];
  return { final, chunks };
}

/**
 * Gemini TTS (docs/gateway.md §10.3): the audio is base64 raw PCM (16-bit, mono, 24 kHz) in
 * `inlineData`; the client writes the WAV header. The model speaks only when asked for AUDIO.
 */
function speak(state: SimulatorState, model: CatalogModel, body: JsonObject, text: string, res: Response, isStream: boolean): void {
  const config = asObject(body['generationConfig'] ?? body['generation_config']);
  const modalities = asArray(config['responseModalities'] ?? config['response_modalities']).map((m) => asString(m).toUpperCase());
  if (!modalities.includes('AUDIO')) {
    res.status(400).json(geminiUpstreamError(400, 'The requested combination of response modalities is not supported by the model: this model only answers AUDIO'));
    return;
  }
  if (text.trim() === '') {
    res.status(400).json(geminiUpstreamError(400, 'Model tried to generate text, but it should only be used for TTS: the contents have no text to speak'));
    return;
  }
  const voices = readSpeechVoices(config);
  if (typeof voices === 'string') {
    res.status(400).json(geminiUpstreamError(400, voices));
    return;
  }
  const envelope = { modelVersion: model.id, responseId: state.ids.id('', 22) };
  const promptTokens = estimateTokens(text);
  let answer: JsonObject;
  if (findBannedWord(text, state.options.bannedWords)) {
    answer = { candidates: [{ finishReason: 'PROHIBITED_CONTENT', index: 0 }], usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens }, ...envelope };
  } else {
    const audio = renderGeminiSpeech(model.id, text, voices);
    chargeTokens(state, model.id, promptTokens, audio.audioTokens);
    answer = {
      candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: GEMINI_SPEECH_MIME, data: audio.data } }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount: audio.audioTokens,
        totalTokenCount: promptTokens + audio.audioTokens,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
        candidatesTokensDetails: [{ modality: 'AUDIO', tokenCount: audio.audioTokens }],
      },
      ...envelope,
    };
  }
  if (!isStream) {
    res.json(answer);
    return;
  }
  openSse(res);
  sendSseData(res, answer);
  res.end();
}
