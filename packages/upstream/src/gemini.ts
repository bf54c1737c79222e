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

export interface GeminiSpeechRequest {
  text: string;
  /** one prebuilt voice (`Kore`, `Puck`, …); ignored when `speakers` is given */
  voice?: string;
  /** multi-speaker speech: each named speaker of the text with its prebuilt voice */
  speakers?: Array<{ speaker: string; voice: string }>;
}

export interface GeminiSpeechResult {
  /** raw little-endian 16-bit PCM samples */
  pcm: Buffer;
  mimeType: string;
  sampleRate: number;
  channels: number;
  usage?: GeminiUsage;
  modelVersion?: string;
}

export interface GeminiApi {
  /** Returns the parts as given; use `requireGeminiImages` when an image is mandatory. */
  generateContent(model: string, request: GeminiGenerateRequest, options?: CallOptions): Promise<GeminiResult>;
  /** Gemini TTS (§10.3): `responseModalities: ["AUDIO"]` with a `speechConfig`; answers raw PCM. */
  speech(model: string, request: GeminiSpeechRequest, options?: CallOptions): Promise<GeminiSpeechResult>;
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
    async speech(model, request, options = {}) {
      const modelId = model.replace(/^models\//, '');
      const res = await http.request({
        ...options,
        method: 'POST',
        path: `/v1beta/models/${encodeURIComponent(modelId)}:generateContent`,
        json: buildGeminiSpeechBody(request),
        profile: 'long',
      });
      return requireGeminiSpeech(parseGeminiResponse(parseJsonResponse(res, 'gemini.speech')));
    },
  };
}

const prebuilt = (voice: string) => ({ prebuiltVoiceConfig: { voiceName: voice } });

export function buildGeminiSpeechBody(request: GeminiSpeechRequest): Record<string, unknown> {
  const speechConfig =
    request.speakers && request.speakers.length > 0
      ? { multiSpeakerVoiceConfig: { speakerVoiceConfigs: request.speakers.map((s) => ({ speaker: s.speaker, voiceConfig: prebuilt(s.voice) })) } }
      : request.voice
        ? { voiceConfig: prebuilt(request.voice) }
        : {};
  return {
    contents: [{ role: 'user', parts: [{ text: request.text }] }],
    generationConfig: { responseModalities: ['AUDIO'], speechConfig },
  };
}

/** `audio/L16;codec=pcm;rate=24000` → 24000; Gemini TTS is 24 kHz when the type says nothing. */
export function pcmSampleRate(mimeType: string): number {
  const rate = /rate=(\d+)/i.exec(mimeType)?.[1];
  return rate ? Number(rate) : 24_000;
}

/**
 * The audio of a speech answer. No audio (a blocked text, `PROHIBITED_CONTENT`) is a `rejected`
 * UpstreamError whose `upstreamCode` is the block or finish reason.
 */
export function requireGeminiSpeech(result: GeminiResult): GeminiSpeechResult {
  const audio = result.parts.flatMap((part) => ('inlineData' in part && /^audio\//i.test(part.inlineData.mimeType) ? [part.inlineData] : []));
  if (audio.length === 0) {
    const reason = result.blockReason ?? result.finishReason;
    throw new UpstreamError({
      kind: 'rejected',
      httpStatus: 200,
      ...(reason !== undefined ? { upstreamCode: reason } : {}),
      message: `gemini answered without audio${reason !== undefined ? ` (${reason})` : ''}`,
    });
  }
  const mimeType = audio[0]!.mimeType;
  const speech: GeminiSpeechResult = {
    pcm: Buffer.concat(audio.map((part) => Buffer.from(part.data, 'base64'))),
    mimeType,
    sampleRate: pcmSampleRate(mimeType),
    channels: 1,
  };
  if (result.usage) speech.usage = result.usage;
  if (result.modelVersion !== undefined) speech.modelVersion = result.modelVersion;
  return speech;
}

/** A WAV file (RIFF, PCM format 1) around raw little-endian 16-bit samples. */
export function wavFromPcm16(pcm: Buffer, sampleRate: number, channels = 1): Buffer {
  const header = Buffer.alloc(44);
  const blockAlign = channels * 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
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
