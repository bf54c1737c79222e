import { sha256Bytes } from '../hash';

/** What a simulated voice says: a sine tone whose pitch and length derive from the request. */
export type Tone = { frequencyHz: number; durationMs: number; sampleRate: number };

/** OpenAI TTS audio is 24 kHz, 16-bit, mono. */
export const SPEECH_SAMPLE_RATE = 24_000;

/**
 * The tone for a speech seed: 220–880 Hz from sha256(seed), 25 ms per input character clamped to
 * 0.2–4 s, divided by `speed` (0.25–4), rounded to whole milliseconds.
 */
export function toneFor(seed: string, inputLength: number, speed = 1): Tone {
  const hash = sha256Bytes(seed);
  const frequencyHz = 220 + (hash.readUInt16BE(0) % 661);
  const spoken = Math.min(4_000, Math.max(200, inputLength * 25));
  return { frequencyHz, durationMs: Math.max(1, Math.round(spoken / speed)), sampleRate: SPEECH_SAMPLE_RATE };
}

/** Signed 16-bit samples of the tone at a quarter of full scale, with 5 ms fades at both ends. */
export function toneSamples(tone: Tone): Int16Array {
  const count = Math.round((tone.durationMs * tone.sampleRate) / 1000);
  const fade = Math.max(1, Math.round(tone.sampleRate * 0.005));
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i += 1) {
    const envelope = Math.min(1, i / fade, (count - 1 - i) / fade);
    samples[i] = Math.round(0.25 * 32767 * Math.max(0, envelope) * Math.sin((2 * Math.PI * tone.frequencyHz * i) / tone.sampleRate));
  }
  return samples;
}

/** Little-endian 16-bit PCM bytes (OpenAI's `pcm` format: raw samples, no header). */
export function pcm16le(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i += 1) out.writeInt16LE(samples[i] as number, i * 2);
  return out;
}
