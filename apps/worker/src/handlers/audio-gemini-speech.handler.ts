import { wavFromPcm16 } from '@genqueue/upstream';
import type { JobHandler } from './handler';
import { geminiUsage, usageField } from './usage';

/**
 * Gemini TTS answers raw PCM (16-bit, mono, usually 24 kHz); the job stores a playable WAV around
 * it, with the sample rate the answer named.
 */
export const audioGeminiSpeechHandler: JobHandler<'audio.gemini_speech'> = async (ctx) => {
  const input = ctx.input;
  const speech = await ctx.upstream.gemini.speech(
    input.model,
    { text: input.text, ...(input.voice ? { voice: input.voice } : {}), ...(input.speakers ? { speakers: input.speakers } : {}) },
    { signal: ctx.signal },
  );
  const wav = wavFromPcm16(speech.pcm, speech.sampleRate, speech.channels);
  const artifact = await ctx.artifacts.save(ctx.job, { kind: 'audio', data: wav, contentType: 'audio/wav', sourceUrl: null });
  const durationMs = Math.round((speech.pcm.length / (2 * speech.channels) / speech.sampleRate) * 1000);
  return {
    output: {
      audio: { artifact_id: artifact.id },
      duration_ms: durationMs,
      sample_rate: speech.sampleRate,
      ...usageField(geminiUsage(speech.usage)),
    },
  };
};
