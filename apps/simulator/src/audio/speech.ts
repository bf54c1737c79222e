import { encodeAdts } from '../media/adts';
import { encodeFlac } from '../media/flac';
import { encodeMp3 } from '../media/mp3';
import { encodeOggOpus } from '../media/ogg-opus';
import { pcm16le, toneFor, toneSamples, type Tone } from '../media/tone';
import { encodeWav } from '../media/wav';

/** `response_format` values of `/v1/audio/speech` (docs/gateway.md §10.2); OpenAI's default is mp3. */
export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

export const isSpeechFormat = (value: string): value is SpeechFormat => SPEECH_FORMATS.some((f) => f === value);

/** The `Content-Type` OpenAI answers per format. */
export const SPEECH_CONTENT_TYPES: Readonly<Record<SpeechFormat, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export const MAX_SPEECH_INPUT_CHARS = 4096;

/** WARNING: tests recompute expected audio from this seed. */
export const speechSeed = (model: string, voice: string, input: string): string => `${model}|${voice}|${input}`;

export type SpeechRequest = { model: string; input: string; voice: string; responseFormat?: SpeechFormat; speed?: number };

export type RenderedSpeech = { format: SpeechFormat; contentType: string; bytes: Buffer; tone: Tone };

/**
 * The audio the simulator answers: a tone (pitch from the seed, length from the input and speed)
 * as a real WAV, raw PCM or a FLAC stream; MP3, Ogg/Opus and AAC (ADTS) are well-formed frame
 * sequences of the same length (silence or seed filler, not the tone).
 */
export function renderSpeech(request: SpeechRequest): RenderedSpeech {
  const format = request.responseFormat ?? 'mp3';
  const seed = speechSeed(request.model, request.voice, request.input);
  const tone = toneFor(seed, request.input.length, request.speed ?? 1);
  let bytes: Buffer;
  switch (format) {
    case 'wav':
      bytes = encodeWav(toneSamples(tone), tone.sampleRate);
      break;
    case 'pcm':
      bytes = pcm16le(toneSamples(tone));
      break;
    case 'flac':
      bytes = encodeFlac(toneSamples(tone), tone.sampleRate);
      break;
    case 'mp3':
      bytes = encodeMp3(seed, tone.durationMs);
      break;
    case 'opus':
      bytes = encodeOggOpus(seed, tone.durationMs, tone.sampleRate);
      break;
    case 'aac':
      bytes = encodeAdts(seed, tone.durationMs, tone.sampleRate);
      break;
  }
  return { format, contentType: SPEECH_CONTENT_TYPES[format], bytes, tone };
}
