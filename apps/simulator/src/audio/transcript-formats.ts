import type { Transcript } from './transcript';

/** `response_format` values of `/v1/audio/transcriptions` and `/translations` (docs/gateway.md §10.1). */
export const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export const isTranscriptFormat = (value: string): value is TranscriptFormat => TRANSCRIPT_FORMATS.some((f) => f === value);

export type TimestampGranularity = 'word' | 'segment';

export type RenderOptions = {
  /** `timestamp_granularities[]`; verbose_json only. Empty = segments (OpenAI's default). */
  granularities?: readonly TimestampGranularity[];
  temperature?: number;
};

export type RenderedTranscript = { contentType: string; body: string };

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function clock(ms: number, separator: ',' | '.'): string {
  const total = Math.round(ms);
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}${separator}${pad(total % 1000, 3)}`;
}

/** `00:01:02,345` */
export const srtTimestamp = (ms: number): string => clock(ms, ',');
/** `00:01:02.345` */
export const vttTimestamp = (ms: number): string => clock(ms, '.');

const seconds = (ms: number): number => Math.round(ms / 10) / 100;

/** SubRip: numbered cues from 1, `-->` between times, a blank line after each cue. */
export const toSrt = (t: Transcript): string =>
  t.segments.map((s) => `${s.id + 1}\n${srtTimestamp(s.startMs)} --> ${srtTimestamp(s.endMs)}\n${s.text}\n\n`).join('');

/** WebVTT: the `WEBVTT` header, a blank line, then cues without numbers. */
export const toVtt = (t: Transcript): string =>
  `WEBVTT\n\n${t.segments.map((s) => `${vttTimestamp(s.startMs)} --> ${vttTimestamp(s.endMs)}\n${s.text}\n\n`).join('')}`;

/** Whisper's `verbose_json` (`task`, `language`, `duration`, `text`, `segments`, `words`). */
export function toVerboseJson(t: Transcript, options: RenderOptions = {}): Record<string, unknown> {
  const granularities = options.granularities ?? [];
  const wantsWords = granularities.includes('word');
  const wantsSegments = granularities.length === 0 || granularities.includes('segment');
  const temperature = options.temperature ?? 0;
  const body: Record<string, unknown> = { task: t.task, language: t.language, duration: seconds(t.durationMs), text: t.text };
  if (wantsSegments) {
    body['segments'] = t.segments.map((s) => ({
      id: s.id,
      seek: Math.floor(s.startMs / 30_000) * 3000,
      start: seconds(s.startMs),
      end: seconds(s.endMs),
      text: ` ${s.text}`,
      tokens: s.tokens,
      temperature,
      avg_logprob: -0.2 - (s.id % 7) / 100,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    }));
  }
  if (wantsWords) body['words'] = t.segments.flatMap((s) => s.words.map((w) => ({ word: w.word, start: seconds(w.startMs), end: seconds(w.endMs) })));
  body['usage'] = { type: 'duration', seconds: Math.ceil(t.durationMs / 1000) };
  return body;
}

/** The body and content type OpenAI answers for `format`. */
export function renderTranscript(t: Transcript, format: TranscriptFormat, options: RenderOptions = {}): RenderedTranscript {
  const text = 'text/plain; charset=utf-8';
  switch (format) {
    case 'json':
      return { contentType: 'application/json', body: JSON.stringify({ text: t.text, usage: { type: 'duration', seconds: Math.ceil(t.durationMs / 1000) } }) };
    case 'text':
      return { contentType: text, body: `${t.text}\n` };
    case 'srt':
      return { contentType: text, body: toSrt(t) };
    case 'vtt':
      return { contentType: text, body: toVtt(t) };
    case 'verbose_json':
      return { contentType: 'application/json', body: JSON.stringify(toVerboseJson(t, options)) };
  }
}
