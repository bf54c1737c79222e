import { z } from 'zod';
import { MediaSourceSchema } from '../media-source';
import { modelSchema, type JobClocks, type JobTypeSpec } from './common';

const AUDIO_CLOCKS: JobClocks = { ttlSec: 86_400, inactivitySec: 600, deadlineSec: 900 };

export const TRANSCRIPTION_RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
export const SPEECH_RESPONSE_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;

const transcriptionFields = {
  audio: MediaSourceSchema,
  model: modelSchema.default('whisper-1'),
  prompt: z.string().max(4_000).optional(),
  response_format: z.enum(TRANSCRIPTION_RESPONSE_FORMATS).default('json'),
  temperature: z.number().min(0).max(1).optional(),
};

export const AudioTranscribeInputSchema = z
  .strictObject({
    ...transcriptionFields,
    /** ISO-639-1, as OpenAI takes it */
    language: z.string().regex(/^[a-z]{2}$/, 'must be an ISO-639-1 code such as en').optional(),
    timestamp_granularities: z.array(z.enum(['word', 'segment'])).min(1).max(2).optional(),
  })
  .superRefine((input, ctx) => {
    // OpenAI refuses granularities with any other format; refuse at submission rather than fail the job.
    if (input.timestamp_granularities && input.response_format !== 'verbose_json') {
      ctx.addIssue({ code: 'custom', path: ['timestamp_granularities'], message: 'needs response_format verbose_json' });
    }
  });
export type AudioTranscribeInput = z.infer<typeof AudioTranscribeInputSchema>;

export const AudioTranslateInputSchema = z.strictObject(transcriptionFields);
export type AudioTranslateInput = z.infer<typeof AudioTranslateInputSchema>;

export const AudioSpeechInputSchema = z.strictObject({
  input: z.string().min(1, 'must not be empty').max(4_096),
  voice: z.string().trim().min(1).max(64),
  model: modelSchema.default('tts-1'),
  response_format: z.enum(SPEECH_RESPONSE_FORMATS).default('mp3'),
  speed: z.number().min(0.25).max(4).optional(),
  instructions: z.string().max(4_000).optional(),
});
export type AudioSpeechInput = z.infer<typeof AudioSpeechInputSchema>;

/** Gemini's prebuilt voice names are one capitalised word (Kore, Puck, Zephyr, …). */
const geminiVoiceSchema = z.string().regex(/^[A-Z][a-z]+$/, 'must be a Gemini prebuilt voice name such as Kore');

export const AudioGeminiSpeechInputSchema = z
  .strictObject({
    text: z.string().trim().min(1, 'must not be empty').max(8_000),
    voice: geminiVoiceSchema.optional(),
    /** multi-speaker speech: the text names each speaker ("Joe: …"); Gemini takes exactly two */
    speakers: z
      .array(z.strictObject({ speaker: z.string().trim().min(1).max(64), voice: geminiVoiceSchema }))
      .length(2, 'Gemini speaks with exactly two speakers')
      .optional(),
    model: modelSchema.default('gemini-2.5-flash-preview-tts'),
  })
  .superRefine((input, ctx) => {
    if (input.voice !== undefined && input.speakers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['voice'], message: 'give either voice or speakers, not both' });
    }
    if (input.speakers && input.speakers[0]?.speaker === input.speakers[1]?.speaker) {
      ctx.addIssue({ code: 'custom', path: ['speakers'], message: 'the two speakers need different names' });
    }
  });
export type AudioGeminiSpeechInput = z.infer<typeof AudioGeminiSpeechInputSchema>;

export const AUDIO_JOB_TYPES = [
  { type: 'audio.transcribe', family: 'audio', input: AudioTranscribeInputSchema, clocks: AUDIO_CLOCKS, isGatewayTask: false },
  { type: 'audio.translate', family: 'audio', input: AudioTranslateInputSchema, clocks: AUDIO_CLOCKS, isGatewayTask: false },
  { type: 'audio.speech', family: 'audio', input: AudioSpeechInputSchema, clocks: AUDIO_CLOCKS, isGatewayTask: false },
  { type: 'audio.gemini_speech', family: 'audio', input: AudioGeminiSpeechInputSchema, clocks: AUDIO_CLOCKS, isGatewayTask: false },
] as const satisfies readonly JobTypeSpec[];
