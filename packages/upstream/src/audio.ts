import { Blob } from 'node:buffer';
import { FormData } from 'undici';
import { detectErrorEnvelope, looksLikeHtml, UpstreamError } from './errors';
import { errorFromHttpResponse, type CallOptions, type HttpResponse, type UpstreamHttp } from './http';
import { asArray, asNumber, asRecord, asText, compact, type JsonRecord } from './lenient';
import { parseJsonResponse } from './response';
import { parseSubtitles, subtitlesToText } from './subtitles';

/**
 * OpenAI-format audio (docs/gateway.md §10): speech-to-text as multipart
 * (`/v1/audio/transcriptions`, `/v1/audio/translations`) and text-to-speech
 * (`/v1/audio/speech`, JSON in, binary audio out). Calls use the `long` timeout profile
 * (`imageMs`, 300 s by default: the gateway waits on the upstream for ever).
 */

export interface AudioFile {
  filename: string;
  contentType: string;
  data: Buffer | Uint8Array;
}

export type TranscriptionFormat = 'json' | 'text' | 'srt' | 'vtt' | 'verbose_json';
export const TRANSCRIPTION_FORMATS: readonly TranscriptionFormat[] = ['json', 'text', 'srt', 'vtt', 'verbose_json'];

export type TimestampGranularity = 'word' | 'segment';

export interface TranscriptionRequest {
  file: AudioFile;
  /** `whisper-1`, …; the gateway picks a channel for `whisper-1` when empty. */
  model: string;
  /** ISO-639-1 code of the spoken language (transcriptions only). */
  language?: string;
  prompt?: string;
  /** Default `json` (the gateway's default too). */
  responseFormat?: TranscriptionFormat;
  /** Sent as repeated `timestamp_granularities[]`; OpenAI accepts them with `verbose_json` only. */
  timestampGranularities?: TimestampGranularity[];
  temperature?: number;
  /** Other form fields (`chunking_strategy`, `include[]`, …); the named fields are sent as well. */
  extra?: Record<string, string | number | boolean>;
}

/** Translations (to English) take no `language` and no timestamp granularities. */
export type TranslationRequest = Omit<TranscriptionRequest, 'language' | 'timestampGranularities'>;

export interface TranscriptSegment {
  id: number;
  /** Seconds. */
  start: number;
  end: number;
  /** Trimmed segment text (Whisper puts a leading space in `verbose_json`). */
  text: string;
  seek?: number;
  tokens?: number[];
  temperature?: number;
  avgLogprob?: number;
  compressionRatio?: number;
  noSpeechProb?: number;
}

export interface TranscriptWord {
  word: string;
  start: number;
  end: number;
}

export interface TranscriptionUsage {
  /** Whisper bills by duration (`{"type":"duration","seconds":N}`). */
  seconds?: number;
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

export interface TranscriptionResult {
  format: TranscriptionFormat;
  /** The plain text: `text` of json/verbose_json, the body of `text` (trimmed), the cue texts of srt/vtt joined by spaces. */
  text: string;
  /** The body as received, for `text`, `srt` and `vtt`. */
  raw?: string;
  /** verbose_json segments, or the cues of srt/vtt (ids from 0). */
  segments?: TranscriptSegment[];
  /** verbose_json `words` (asked with `timestampGranularities: ['word']`). */
  words?: TranscriptWord[];
  /** verbose_json: Whisper's language name (`english`), not the ISO code. */
  language?: string;
  /** verbose_json: seconds. */
  duration?: number;
  /** verbose_json: `transcribe` or `translate`. */
  task?: string;
  usage?: TranscriptionUsage;
}

export type SpeechFormat = 'mp3' | 'opus' | 'aac' | 'flac' | 'wav' | 'pcm';

/** The content type of each speech format, used when the gateway sends none (or a generic one). */
export const SPEECH_CONTENT_TYPES: Readonly<Record<SpeechFormat, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export interface SpeechRequest {
  /** `tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, … */
  model: string;
  /** At most 4096 characters (OpenAI refuses longer input with 400). */
  input: string;
  /** `alloy`, `echo`, `fable`, `onyx`, `nova`, `shimmer`, … */
  voice: string;
  /** Default `mp3`. */
  responseFormat?: SpeechFormat;
  /** 0.25 – 4. */
  speed?: number;
  /** gpt-4o-mini-tts only. */
  instructions?: string;
  /** Other body keys; the named fields win. */
  extra?: Record<string, unknown>;
}

export interface SpeechResult {
  format: SpeechFormat;
  /** The answer's `Content-Type` without parameters; the format's type when missing or `application/octet-stream`. */
  contentType: string;
  bytes: Buffer;
}

export interface AudioApi {
  /** `POST /v1/audio/transcriptions`. Throws UpstreamError. */
  transcribe(request: TranscriptionRequest, options?: CallOptions): Promise<TranscriptionResult>;
  /** `POST /v1/audio/translations` (answers English). Throws UpstreamError. */
  translate(request: TranslationRequest, options?: CallOptions): Promise<TranscriptionResult>;
  /** `POST /v1/audio/speech`. A 2xx JSON error envelope, HTML page or empty body throws UpstreamError. */
  speech(request: SpeechRequest, options?: CallOptions): Promise<SpeechResult>;
}

export function createAudioApi(http: UpstreamHttp): AudioApi {
  const speechToText = async (path: string, what: string, request: TranscriptionRequest, options: CallOptions): Promise<TranscriptionResult> => {
    const format = request.responseFormat ?? 'json';
    const res = await http.request({ ...options, method: 'POST', path, form: buildTranscriptionForm(request), profile: 'long' });
    return parseTranscriptionResponse(res, format, what);
  };
  return {
    transcribe: (request, options = {}) => speechToText('/v1/audio/transcriptions', 'audio.transcribe', request, options),
    translate: (request, options = {}) => speechToText('/v1/audio/translations', 'audio.translate', request, options),
    async speech(request, options = {}) {
      const format = request.responseFormat ?? 'mp3';
      const body = {
        ...request.extra,
        ...compact({
          model: request.model,
          input: request.input,
          voice: request.voice,
          response_format: format,
          speed: request.speed,
          instructions: request.instructions,
        }),
      };
      const res = await http.request({ ...options, method: 'POST', path: '/v1/audio/speech', json: body, profile: 'long' });
      return parseSpeechResponse(res, format);
    },
  };
}

/** The multipart form of a transcription or translation; exported for tests. */
export function buildTranscriptionForm(request: TranscriptionRequest): FormData {
  const form = new FormData();
  form.append('model', request.model);
  if (request.language !== undefined) form.append('language', request.language);
  if (request.prompt !== undefined) form.append('prompt', request.prompt);
  form.append('response_format', request.responseFormat ?? 'json');
  for (const granularity of request.timestampGranularities ?? []) form.append('timestamp_granularities[]', granularity);
  if (request.temperature !== undefined) form.append('temperature', String(request.temperature));
  for (const [name, value] of Object.entries(request.extra ?? {})) form.append(name, String(value));
  // The file goes last: some proxies read the small fields first.
  form.append('file', new Blob([request.file.data], { type: request.file.contentType }), request.file.filename);
  return form;
}

const baseOf = (res: HttpResponse) => ({ httpStatus: res.status, ...(res.requestId !== undefined ? { requestId: res.requestId } : {}) });

const isJsonType = (contentType: string | undefined): boolean => contentType !== undefined && /\bjson\b/i.test(contentType);

function tryJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads a transcription answer in the format asked for. text/srt/vtt bodies are plain text; a
 * gateway that wraps them as `{"text": …}` is accepted too. Non-2xx, 2xx error envelopes and
 * 2xx HTML pages throw the classified UpstreamError.
 */
export function parseTranscriptionResponse(res: HttpResponse, format: TranscriptionFormat, what = 'audio.transcribe'): TranscriptionResult {
  if (format === 'json' || format === 'verbose_json') return readJsonTranscript(parseJsonResponse(res, what), format, res);
  if (res.status < 200 || res.status >= 300) throw errorFromHttpResponse(res);
  let raw = res.bodyText();
  const json = isJsonType(res.contentType) || raw.trimStart().startsWith('{') ? tryJson(raw) : undefined;
  if (json !== undefined) {
    if (detectErrorEnvelope(json)) throw errorFromHttpResponse(res);
    const wrapped = asRecord(json)?.['text'];
    if (typeof wrapped === 'string') raw = wrapped;
  } else if (looksLikeHtml(raw, res.contentType)) {
    throw new UpstreamError({ ...baseOf(res), kind: 'retryable', message: `${what}: upstream answered an HTML page instead of ${format} (HTTP ${res.status})` });
  }
  if (format === 'text') return { format, text: raw.trim(), raw };
  const cues = parseSubtitles(raw);
  if (cues.length === 0 && raw.trim() !== '' && raw.trim() !== 'WEBVTT') {
    throw new UpstreamError({ ...baseOf(res), kind: 'retryable', message: `${what}: ${format} body has no cues (HTTP ${res.status})` });
  }
  return {
    format,
    text: subtitlesToText(cues),
    raw,
    segments: cues.map((c) => ({ id: c.index, start: c.start, end: c.end, text: c.text })),
  };
}

function readJsonTranscript(json: unknown, format: 'json' | 'verbose_json', res: HttpResponse): TranscriptionResult {
  const body = asRecord(json) ?? {};
  const segments = asArray(body['segments'])
    .map(asRecord)
    .filter((s): s is JsonRecord => s !== undefined)
    .map((s, i) =>
      compact<TranscriptSegment>({
        id: asNumber(s['id']) ?? i,
        start: asNumber(s['start']) ?? 0,
        end: asNumber(s['end']) ?? 0,
        text: typeof s['text'] === 'string' ? s['text'].trim() : '',
        seek: asNumber(s['seek']),
        tokens: Array.isArray(s['tokens']) ? s['tokens'].filter((t): t is number => typeof t === 'number') : undefined,
        temperature: asNumber(s['temperature']),
        avgLogprob: asNumber(s['avg_logprob']),
        compressionRatio: asNumber(s['compression_ratio']),
        noSpeechProb: asNumber(s['no_speech_prob']),
      }),
    );
  let text = typeof body['text'] === 'string' ? body['text'] : undefined;
  if (text === undefined && segments.length > 0) text = segments.map((s) => s.text).join(' ');
  if (text === undefined) {
    throw new UpstreamError({ ...baseOf(res), kind: 'retryable', message: `audio: ${format} answer without text (HTTP ${res.status})` });
  }
  const result: TranscriptionResult = { format, text: text.trim() };
  if (segments.length > 0) result.segments = segments;
  const words = asArray(body['words'])
    .map(asRecord)
    .filter((w): w is JsonRecord => w !== undefined && typeof w['word'] === 'string')
    .map((w) => ({ word: (w['word'] as string).trim(), start: asNumber(w['start']) ?? 0, end: asNumber(w['end']) ?? 0 }));
  if (words.length > 0) result.words = words;
  const language = asText(body['language']);
  if (language !== undefined) result.language = language;
  const duration = asNumber(body['duration']);
  if (duration !== undefined) result.duration = duration;
  const task = asText(body['task']);
  if (task !== undefined) result.task = task;
  const usage = asRecord(body['usage']);
  if (usage) {
    const parsed = compact<TranscriptionUsage>({
      seconds: asNumber(usage['seconds']),
      inputTokens: asNumber(usage['input_tokens']),
      outputTokens: asNumber(usage['output_tokens']),
      totalTokens: asNumber(usage['total_tokens']),
    });
    if (Object.keys(parsed).length > 0) result.usage = parsed;
  }
  return result;
}

/** Reads a speech answer: the bytes and their content type. */
export function parseSpeechResponse(res: HttpResponse, format: SpeechFormat): SpeechResult {
  if (res.status < 200 || res.status >= 300) throw errorFromHttpResponse(res);
  const declared = res.contentType?.split(';')[0]?.trim().toLowerCase();
  if (isJsonType(declared) || (declared === undefined && res.body[0] === 0x7b)) {
    const json = tryJson(res.bodyText());
    if (json !== undefined && detectErrorEnvelope(json)) throw errorFromHttpResponse(res);
    throw new UpstreamError({ ...baseOf(res), kind: 'rejected', message: `audio.speech: expected ${format} audio, got JSON (HTTP ${res.status})` });
  }
  if (declared === 'text/html' || (declared?.startsWith('text/') === true && looksLikeHtml(res.bodyText(), res.contentType))) {
    throw new UpstreamError({ ...baseOf(res), kind: 'retryable', message: `audio.speech: upstream answered an HTML page instead of audio (HTTP ${res.status})` });
  }
  if (res.body.length === 0) {
    throw new UpstreamError({ ...baseOf(res), kind: 'retryable', message: `audio.speech: empty body (HTTP ${res.status})` });
  }
  const contentType = declared === undefined || declared === '' || declared === 'application/octet-stream' ? SPEECH_CONTENT_TYPES[format] : declared;
  return { format, contentType, bytes: res.body };
}
