import { sha256Hex } from '../hash';
import { readWavInfo } from '../media/wav';
import { pick, seededUint32 } from '../prng';

/**
 * Deterministic transcripts. WARNING: tests in other packages recompute expected texts with
 * `expectedTranscript`; changing the word list or the derivation changes them all.
 *
 * The text depends only on sha256(audio bytes) and the task (`transcribe` or `translate`); the
 * duration on the byte length (or, for a RIFF/WAVE file, on its header). Times are on a 10 ms grid
 * so they print exactly as seconds with two decimals and as SRT/VTT milliseconds.
 */

export type TranscriptTask = 'transcribe' | 'translate';

export type TranscriptWord = { word: string; startMs: number; endMs: number };

export type TranscriptSegment = { id: number; startMs: number; endMs: number; text: string; words: TranscriptWord[]; tokens: number[] };

export type Transcript = {
  task: TranscriptTask;
  /** Whisper's language name (`english`, `german`, …); translations are always `english`. */
  language: string;
  durationMs: number;
  /** The segments' texts joined by single spaces. */
  text: string;
  segments: TranscriptSegment[];
};

const WORDS = [
  'the', 'quick', 'river', 'carries', 'light', 'across', 'old', 'stone', 'bridges', 'while', 'morning', 'markets',
  'open', 'slowly', 'under', 'bright', 'windows', 'every', 'small', 'engine', 'hums', 'along', 'quiet', 'streets',
  'people', 'gather', 'near', 'the', 'harbor', 'to', 'watch', 'ships', 'return', 'with', 'fresh', 'bread',
  'music', 'drifts', 'from', 'a', 'distant', 'garden', 'where', 'children', 'laugh', 'and', 'dogs', 'run',
  'clouds', 'move', 'east', 'before', 'the', 'evening', 'rain', 'settles', 'over', 'green', 'hills', 'again',
  'our', 'team', 'reviews', 'each', 'report', 'carefully', 'then', 'shares', 'clear', 'notes', 'with', 'everyone',
];

/** ISO-639-1 codes to the names Whisper reports in `verbose_json`. */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'english', de: 'german', fr: 'french', es: 'spanish', it: 'italian', pt: 'portuguese', nl: 'dutch', ru: 'russian',
  zh: 'chinese', ja: 'japanese', ko: 'korean', ar: 'arabic', hi: 'hindi', tr: 'turkish', pl: 'polish', sv: 'swedish',
  uk: 'ukrainian', cs: 'czech', da: 'danish', fi: 'finnish', el: 'greek', he: 'hebrew', id: 'indonesian', vi: 'vietnamese',
};

/** Bytes per second assumed for audio that is not a WAV file (128 kbit/s). */
export const ASSUMED_BYTES_PER_SECOND = 16_000;
const MIN_DURATION_MS = 500;
const SEGMENT_MS = 6_000;
const MAX_SEGMENTS = 120;
const GRID_MS = 10;

const onGrid = (ms: number): number => Math.round(ms / GRID_MS) * GRID_MS;

/** Duration of an upload: from the header of a RIFF/WAVE file, else byteLength / 16 000 s; at least 0.5 s. */
export function audioDurationMs(bytes: Buffer): number {
  const wav = readWavInfo(bytes);
  const raw = wav && wav.durationMs > 0 ? wav.durationMs : (bytes.length * 1000) / ASSUMED_BYTES_PER_SECOND;
  return Math.max(MIN_DURATION_MS, onGrid(raw));
}

function sentence(next: () => number, wordCount: number): string[] {
  const words = Array.from({ length: wordCount }, () => WORDS[pick(next, WORDS.length)] as string);
  words[0] = `${words[0]?.charAt(0).toUpperCase() ?? ''}${words[0]?.slice(1) ?? ''}`;
  return words;
}

/** Spreads words over [startMs, endMs] in proportion to their length, on the 10 ms grid. */
function timeWords(words: string[], startMs: number, endMs: number): TranscriptWord[] {
  const weights = words.map((w) => w.length + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return words.map((word, i) => {
    const from = onGrid(startMs + ((endMs - startMs) * acc) / total);
    acc += weights[i] as number;
    const to = i === words.length - 1 ? endMs : onGrid(startMs + ((endMs - startMs) * acc) / total);
    return { word, startMs: from, endMs: to };
  });
}

/** Audio bytes containing this (ASCII) get a transcript with U+0000 in its first segment; for tests of what stores gateway text. */
export const NUL_TEXT = 'NUL_TEXT';

/**
 * The transcript the simulator answers for `bytes`. `language` (ISO-639-1) only changes the
 * reported language of a transcription; translations are English.
 */
export function expectedTranscript(bytes: Buffer, options: { task?: TranscriptTask; language?: string } = {}): Transcript {
  const task = options.task ?? 'transcribe';
  const durationMs = audioDurationMs(bytes);
  const next = seededUint32(`${task}|${sha256Hex(bytes)}`);
  const count = Math.min(MAX_SEGMENTS, Math.max(1, Math.ceil(durationMs / SEGMENT_MS)));
  const segments: TranscriptSegment[] = [];
  for (let id = 0; id < count; id += 1) {
    const startMs = onGrid((durationMs * id) / count);
    const endMs = id === count - 1 ? durationMs : onGrid((durationMs * (id + 1)) / count);
    const maxWords = Math.max(1, Math.min(12, Math.floor((endMs - startMs) / 250)));
    const wordCount = Math.min(maxWords, 4 + pick(next, 9));
    const words = sentence(next, Math.max(1, wordCount));
    // an upload whose bytes contain NUL_TEXT gets U+0000 in its first segment (a model's stray control character)
    if (id === 0 && bytes.includes(NUL_TEXT)) words[0] = `${words[0]}\u0000`;
    const text = `${words.join(' ')}.`;
    const timed = timeWords(words, startMs, endMs);
    const tokens = [50364, ...words.map((w) => 1000 + (parseInt(sha256Hex(w).slice(0, 6), 16) % 49000)), 13];
    segments.push({ id, startMs, endMs, text, words: timed, tokens });
  }
  const language = task === 'translate' ? 'english' : (LANGUAGE_NAMES[(options.language ?? 'en').toLowerCase()] ?? (options.language ?? 'en').toLowerCase());
  return { task, language, durationMs, text: segments.map((s) => s.text).join(' '), segments };
}
