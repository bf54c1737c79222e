import { Router, type Request, type Response } from 'express';
import { asObject, type JsonObject } from '../body';
import { findModel } from '../catalog';
import { gatewayError, modelNotFound, upstreamError, type OpenAIErrorBody } from '../errors';
import { sha256Hex } from '../hash';
import { fieldValues, flatFields, lastField, parseAudioForm, type AudioForm } from '../audio/audio-form';
import { isSpeechFormat, MAX_SPEECH_INPUT_CHARS, renderSpeech, SPEECH_FORMATS, type SpeechFormat } from '../audio/speech';
import { expectedTranscript, type TranscriptTask } from '../audio/transcript';
import { isTranscriptFormat, renderTranscript, TRANSCRIPT_FORMATS, type TimestampGranularity } from '../audio/transcript-formats';
import { requestIdOf } from '../middleware/locals';
import { meteredRelayRoute } from '../middleware/metered-limit';
import type { RouteKey } from '../route-keys';
import type { SimulatorState } from '../state';

/** OpenAI's upload limit for speech-to-text files. */
export const MAX_AUDIO_FILE_BYTES = 25 * 1024 * 1024;

/**
 * Audio (docs/gateway.md §10): speech-to-text as multipart (`/v1/audio/transcriptions`,
 * `/translations`), text-to-speech as JSON in, binary audio out (`/v1/audio/speech`).
 */
export function audioRoutes(state: SimulatorState): Router {
  const router = Router();
  router.post('/v1/audio/transcriptions', ...meteredRelayRoute(state, 'audio.transcriptions'), (req, res) =>
    speechToText(state, req, res, 'audio.transcriptions', 'transcribe'),
  );
  router.post('/v1/audio/translations', ...meteredRelayRoute(state, 'audio.translations'), (req, res) =>
    speechToText(state, req, res, 'audio.translations', 'translate'),
  );
  router.post('/v1/audio/speech', ...meteredRelayRoute(state, 'audio.speech'), (req, res) => textToSpeech(state, req, res));
  return router;
}

const refused = (message: string, param: string | null = null, code: string | null = null): OpenAIErrorBody =>
  upstreamError({ message, type: 'invalid_request_error', param, code });

async function speechToText(state: SimulatorState, req: Request, res: Response, key: RouteKey, task: TranscriptTask): Promise<void> {
  const requestId = requestIdOf(res);
  let form: AudioForm;
  try {
    form = await parseAudioForm(req);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    res.status(500).json(gatewayError(`failed to parse audio form request: ${detail}`, 'invalid_request', requestId));
    return;
  }
  state.uploads.push({
    routeKey: key,
    requestId,
    atMs: state.clock.now(),
    fields: flatFields(form),
    files: form.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, bytes: f.data.length, sha256: sha256Hex(f.data) })),
  });

  // The distributor picks a channel for `whisper-1` when the form has no model.
  const modelId = lastField(form, 'model') || 'whisper-1';
  const model = findModel(modelId);
  if (!model) {
    res.status(503).json(modelNotFound(modelId, requestId));
    return;
  }
  const problem = checkSpeechToText(form, model.family, task);
  if (problem) {
    res.status(problem.status).json(problem.body);
    return;
  }
  const file = form.files.find((f) => f.field === 'file');
  const format = lastField(form, 'response_format') || 'json';
  if (!file || !isTranscriptFormat(format)) return; // checked above
  const language = task === 'transcribe' ? lastField(form, 'language') || undefined : undefined;
  const transcript = expectedTranscript(file.data, { task, ...(language !== undefined ? { language } : {}) });
  const temperature = lastField(form, 'temperature');
  const rendered = renderTranscript(transcript, format, {
    granularities: fieldValues(form, 'timestamp_granularities') as TimestampGranularity[],
    ...(temperature !== '' ? { temperature: Number(temperature) } : {}),
  });
  state.balance.charge(state.options.audioCostQuota);
  res.status(200).setHeader('Content-Type', rendered.contentType);
  res.send(rendered.body);
}

/** What OpenAI refuses in a speech-to-text form, in its order; null when the form is fine. */
function checkSpeechToText(form: AudioForm, family: string, task: TranscriptTask): { status: number; body: OpenAIErrorBody } | null {
  if (family !== 'audio-stt') {
    const what = task === 'transcribe' ? 'transcriptions' : 'translations';
    return { status: 400, body: refused(`This model does not support audio ${what}.`, 'model') };
  }
  const file = form.files.find((f) => f.field === 'file');
  if (!file) return { status: 400, body: refused('1 validation error for Request\nbody -> file\n  field required') };
  if (file.data.length > MAX_AUDIO_FILE_BYTES) {
    return {
      status: 413,
      body: upstreamError({
        message: `Maximum content size limit (${MAX_AUDIO_FILE_BYTES}) exceeded (${file.data.length} bytes read)`,
        type: 'server_error',
        param: null,
        code: null,
      }),
    };
  }
  const format = lastField(form, 'response_format') || 'json';
  if (!isTranscriptFormat(format)) {
    return { status: 400, body: refused(`response_format must be one of ${TRANSCRIPT_FORMATS.join(', ')}`, 'response_format') };
  }
  const language = lastField(form, 'language');
  if (task === 'transcribe' && language !== '' && !/^[a-z]{2}$/i.test(language)) {
    return {
      status: 400,
      body: refused(`Invalid language '${language}'. Language parameter must be specified in ISO-639-1 format.`, 'language', 'invalid_language_format'),
    };
  }
  const granularities = fieldValues(form, 'timestamp_granularities');
  if (granularities.some((g) => g !== 'word' && g !== 'segment')) {
    return { status: 400, body: refused("timestamp_granularities must be 'word' or 'segment'", 'timestamp_granularities') };
  }
  if (granularities.length > 0 && format !== 'verbose_json') {
    return { status: 400, body: refused('response_format must be set verbose_json to use timestamp granularities.', 'timestamp_granularities') };
  }
  const temperature = lastField(form, 'temperature');
  if (temperature !== '' && !(Number(temperature) >= 0 && Number(temperature) <= 1)) {
    return { status: 400, body: refused(`Invalid value for 'temperature' = ${temperature}. Must be between 0 and 1.`, 'temperature') };
  }
  return null;
}

function textToSpeech(state: SimulatorState, req: Request, res: Response): void {
  const requestId = requestIdOf(res);
  const body = asObject(req.body);
  state.uploads.push({ routeKey: 'audio.speech', requestId, atMs: state.clock.now(), fields: stringFields(body), files: [] });
  // The distributor picks a channel for `tts-1` when the body has no model.
  const modelId = typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : 'tts-1';
  const model = findModel(modelId);
  if (!model) {
    res.status(503).json(modelNotFound(modelId, requestId));
    return;
  }
  if (model.family !== 'audio-tts') {
    res.status(400).json(refused('This model does not support text-to-speech.', 'model'));
    return;
  }
  const input = typeof body['input'] === 'string' ? body['input'] : '';
  if (input === '') {
    res.status(500).json(gatewayError('input is required', 'invalid_request', requestId));
    return;
  }
  if (input.length > MAX_SPEECH_INPUT_CHARS) {
    res.status(400).json(refused(`String should have at most ${MAX_SPEECH_INPUT_CHARS} characters`, 'input', 'string_above_max_length'));
    return;
  }
  const voice = typeof body['voice'] === 'string' ? body['voice'] : '';
  if (voice === '') {
    res.status(400).json(refused("Missing required parameter: 'voice'.", 'voice', 'missing_required_parameter'));
    return;
  }
  const format = body['response_format'] ?? 'mp3';
  if (typeof format !== 'string' || !isSpeechFormat(format)) {
    const supported = SPEECH_FORMATS.map((f) => `'${f}'`).join(', ');
    res.status(400).json(refused(`Invalid value: '${String(format)}'. Supported values are: ${supported}.`, 'response_format', 'invalid_value'));
    return;
  }
  const speed = body['speed'] ?? 1;
  if (typeof speed !== 'number' || !(speed >= 0.25 && speed <= 4)) {
    res.status(400).json(refused(`Invalid 'speed': ${String(speed)}. Expected a value between 0.25 and 4.`, 'speed', 'invalid_value'));
    return;
  }
  const speech = renderSpeech({ model: modelId, input, voice, responseFormat: format as SpeechFormat, speed });
  state.balance.charge(state.options.audioCostQuota);
  res.status(200).setHeader('Content-Type', speech.contentType);
  res.send(speech.bytes);
}

const stringFields = (body: JsonObject): Record<string, string> =>
  Object.fromEntries(
    Object.entries(body)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      .map(([k, v]) => [k, String(v)]),
  );
