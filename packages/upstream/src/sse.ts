/**
 * Incremental Server-Sent Events parser (WHATWG rules: LF, CR or CRLF line ends, `:` comments,
 * multi-line `data`). Works on bytes, so a line may be split anywhere, even inside a UTF-8
 * character. A line is decoded once when it is complete: a multi-MB `data:` line costs one copy,
 * not one per chunk.
 */

export interface SseEvent {
  /** `event:` field, absent for the default "message" type. */
  event?: string;
  data: string;
  /** Last `id:` seen on the stream. */
  id?: string;
}

export interface SseParserOptions {
  onEvent: (event: SseEvent) => void;
  /** Comment lines (`: PING`), without the leading colon. */
  onComment?: (text: string) => void;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseParser {
  private readonly onEvent: SseParserOptions['onEvent'];
  private readonly onComment: SseParserOptions['onComment'];
  /** Pieces of the current, unfinished line. */
  private pieces: Buffer[] = [];
  private isAfterCR = false;
  private isAtStart = true;
  private dataLines: string[] = [];
  private eventType: string | undefined;
  private lastEventId: string | undefined;

  constructor(options: SseParserOptions) {
    this.onEvent = options.onEvent;
    this.onComment = options.onComment;
  }

  push(chunk: Uint8Array | string): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0) return;
    if (this.isAtStart) {
      this.isAtStart = false;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    let start = 0;
    if (this.isAfterCR) {
      this.isAfterCR = false;
      if (buf[0] === LF) start = 1;
    }
    // Cached CR position: each byte is scanned at most once per character kind, so a huge line stays linear.
    let nextCR = -2;
    while (start < buf.length) {
      const lf = buf.indexOf(LF, start);
      if (nextCR !== -1 && nextCR < start) nextCR = buf.indexOf(CR, start);
      let end: number;
      if (lf === -1) end = nextCR;
      else if (nextCR === -1) end = lf;
      else end = Math.min(lf, nextCR);
      if (end === -1) {
        this.pieces.push(buf.subarray(start));
        return;
      }
      this.pieces.push(buf.subarray(start, end));
      const line = this.takeLine();
      if (buf[end] === CR) {
        if (end + 1 === buf.length) {
          this.isAfterCR = true;
          start = end + 1;
        } else {
          start = buf[end + 1] === LF ? end + 2 : end + 1;
        }
      } else {
        start = end + 1;
      }
      this.processLine(line);
    }
  }

  /** Flushes an unterminated last line and a last event without its blank line (lenient). */
  end(): void {
    if (this.pieces.length > 0) this.processLine(this.takeLine());
    this.dispatch();
  }

  private takeLine(): string {
    const pieces = this.pieces;
    this.pieces = [];
    if (pieces.length === 1 && pieces[0] !== undefined) return pieces[0].toString('utf8');
    return Buffer.concat(pieces).toString('utf8');
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' */) {
      this.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      default:
        // `retry` and unknown fields are ignored.
        break;
    }
  }

  private dispatch(): void {
    if (this.dataLines.length === 0) {
      this.eventType = undefined;
      return;
    }
    const data = this.dataLines.length === 1 ? (this.dataLines[0] ?? '') : this.dataLines.join('\n');
    const event: SseEvent = { data };
    if (this.eventType !== undefined && this.eventType !== '') event.event = this.eventType;
    if (this.lastEventId !== undefined) event.id = this.lastEventId;
    this.dataLines = [];
    this.eventType = undefined;
    this.onEvent(event);
  }
}

/** Parses a whole SSE text at once (tests, non-streamed bodies). */
export function parseSseText(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (event) => events.push(event) });
  parser.push(text);
  parser.end();
  return events;
}
