import { asArray, asObject, asString, type JsonObject } from '../body';
import { pcm16le, toneFor, toneSamples, SPEECH_SAMPLE_RATE } from '../media/tone';

/** What Gemini TTS answers in `inlineData.mimeType`: raw 16-bit PCM, mono, 24 kHz (docs/gateway.md §10.3). */
export const GEMINI_SPEECH_MIME = `audio/L16;codec=pcm;rate=${SPEECH_SAMPLE_RATE}`;
/** Gemini counts 25 audio tokens per second of speech. */
const AUDIO_TOKENS_PER_SEC = 25;
/** Gemini's multi-speaker speech takes exactly two speakers. */
export const MAX_SPEAKERS = 2;

export type SpeechVoices = { voices: string[]; speakers: string[] };

const VOICE_NAME = /^[A-Z][a-z]+$/;

/**
 * The voices of a `speechConfig`: one `voiceConfig.prebuiltVoiceConfig.voiceName`, or a
 * `multiSpeakerVoiceConfig.speakerVoiceConfigs` list; camelCase or snake_case. A string says what
 * is wrong with it.
 */
export function readSpeechVoices(generationConfig: JsonObject): SpeechVoices | string {
  const speech = asObject(generationConfig['speechConfig'] ?? generationConfig['speech_config']);
  const voiceOf = (holder: JsonObject) => {
    const voiceConfig = asObject(holder['voiceConfig'] ?? holder['voice_config']);
    const prebuilt = asObject(voiceConfig['prebuiltVoiceConfig'] ?? voiceConfig['prebuilt_voice_config']);
    return asString(prebuilt['voiceName'] ?? prebuilt['voice_name']);
  };
  const multi = asObject(speech['multiSpeakerVoiceConfig'] ?? speech['multi_speaker_voice_config']);
  const configs = asArray(multi['speakerVoiceConfigs'] ?? multi['speaker_voice_configs']).map(asObject);
  if (configs.length > 0) {
    if (configs.length !== MAX_SPEAKERS) return `multiSpeakerVoiceConfig needs exactly ${MAX_SPEAKERS} speakers`;
    const voices = configs.map(voiceOf);
    const speakers = configs.map((c) => asString(c['speaker']));
    if (speakers.some((name) => name === '')) return 'every speakerVoiceConfig needs a speaker';
    const bad = voices.find((v) => !VOICE_NAME.test(v));
    if (bad !== undefined) return `Voice ${bad || '(empty)'} is not a prebuilt voice`;
    return { voices, speakers };
  }
  const voice = voiceOf(speech) || 'Kore';
  if (!VOICE_NAME.test(voice)) return `Voice ${voice} is not a prebuilt voice`;
  return { voices: [voice], speakers: [] };
}

/** The answer's audio part and token counts: a tone whose pitch and length derive from the request. */
export function renderGeminiSpeech(model: string, text: string, voices: SpeechVoices): { data: string; audioTokens: number; durationMs: number } {
  const tone = toneFor(`${model}|${voices.voices.join(',')}|${voices.speakers.join(',')}|${text}`, text.length);
  return {
    data: pcm16le(toneSamples(tone)).toString('base64'),
    audioTokens: Math.max(1, Math.round((tone.durationMs / 1000) * AUDIO_TOKENS_PER_SEC)),
    durationMs: tone.durationMs,
  };
}
