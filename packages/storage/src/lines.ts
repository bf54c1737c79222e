import type { Readable } from 'node:stream';

export type Line = { lineNo: number; text: string } | { lineNo: number; tooLong: true };

/**
 * The lines of a stored text object, read as it streams: memory stays bounded by `maxLineBytes`
 * whatever the file holds (a line over it is reported, not buffered). `\r\n` and `\n` both end a line.
 */
export async function* readLines(stream: Readable, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let lineNo = 0;
  const emit = (): Line => {
    lineNo += 1;
    let line: Line;
    if (tooLong) {
      line = { lineNo, tooLong: true };
    } else {
      let text = Buffer.concat(parts, length).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      line = { lineNo, text };
    }
    parts = [];
    length = 0;
    tooLong = false;
    return line;
  };
  const add = (piece: Buffer): void => {
    if (tooLong || piece.length === 0) return;
    if (length + piece.length > maxLineBytes) {
      tooLong = true;
      parts = [];
      length = 0;
      return;
    }
    parts.push(piece);
    length += piece.length;
  };
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (length === 0 && !tooLong && nl - start <= maxLineBytes) {
        // the whole line is in this piece: decoded in place, no copy of its bytes first
        lineNo += 1;
        const text = buf.toString('utf8', start, nl);
        yield { lineNo, text: text.endsWith('\r') ? text.slice(0, -1) : text };
      } else {
        add(buf.subarray(start, nl));
        yield emit();
      }
      start = nl + 1;
    }
    // copy: the stream may reuse its buffer
    if (start < buf.length) add(Buffer.from(buf.subarray(start)));
  }
  if (length > 0 || tooLong) yield emit();
}
