/** SubRip (`srt`) and WebVTT (`vtt`) cues, as the transcription endpoints answer them (§10.1). */

export interface SubtitleCue {
  /** 0-based position in the file. */
  index: number;
  /** Seconds. */
  start: number;
  end: number;
  /** Cue text; several lines are joined with a space, WebVTT tags (`<v Bob>`, `<b>`) removed. */
  text: string;
}

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?:\s.*)?$/;

/** `01:02:03,456`, `01:02:03.456` or `02:03.456` (VTT may omit hours) → seconds. */
export function parseSubtitleTimestamp(value: string): number {
  const [clock = '', fraction = '0'] = value.trim().split(/[.,]/);
  const parts = clock.split(':').map(Number);
  const [h, m, s] = parts.length === 3 ? parts : [0, ...parts];
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0) + ms / 1000;
}

const cleanText = (lines: string[]): string =>
  lines
    .map((line) => line.replace(/<[^>]*>/g, '').trim())
    .filter((line) => line !== '')
    .join(' ');

/**
 * Cues of an SRT or VTT body. Lenient: CRLF, a BOM, missing or extra cue numbers, VTT headers,
 * `NOTE`/`STYLE`/`REGION` blocks and cue settings are accepted; blocks without a timing line are
 * skipped.
 */
export function parseSubtitles(body: string): SubtitleCue[] {
  const blocks = body
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/);
  const cues: SubtitleCue[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    const timingAt = lines.findIndex((line) => TIMING.test(line));
    if (timingAt === -1) continue;
    const match = TIMING.exec(lines[timingAt] as string);
    if (!match) continue;
    cues.push({
      index: cues.length,
      start: parseSubtitleTimestamp(match[1] as string),
      end: parseSubtitleTimestamp(match[2] as string),
      text: cleanText(lines.slice(timingAt + 1)),
    });
  }
  return cues;
}

/** Plain text of a subtitle body: the cue texts joined by single spaces. */
export const subtitlesToText = (cues: readonly SubtitleCue[]): string =>
  cues
    .map((c) => c.text)
    .filter((t) => t !== '')
    .join(' ');
