import { Readable } from 'node:stream';
import { readLines, type Line } from '../src/lines';

/** readLines over streams cut anywhere: the same lines whether a line sits inside one piece or spans several. */
describe('readLines', () => {
  async function linesOf(pieces: Array<string | Buffer>, maxLineBytes = 64): Promise<Line[]> {
    const out: Line[] = [];
    for await (const line of readLines(Readable.from(pieces.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8')))), maxLineBytes)) out.push(line);
    return out;
  }

  it('reads lines inside one piece and across pieces alike, CRLF or LF, the last one without a newline', async () => {
    const expected = [
      { lineNo: 1, text: 'alpha' },
      { lineNo: 2, text: 'beta' },
      { lineNo: 3, text: '' },
      { lineNo: 4, text: 'gamma delta' },
      { lineNo: 5, text: 'épsilon' },
    ];
    const text = 'alpha\r\nbeta\n\ngamma delta\népsilon';
    expect(await linesOf([text])).toEqual(expected);
    // every cut, multi-byte characters included
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(await linesOf([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
    expect(await linesOf([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('reports a line over the limit without its text, in one piece or across pieces, and goes on', async () => {
    const long = 'x'.repeat(20);
    const expected = [{ lineNo: 1, text: 'short' }, { lineNo: 2, tooLong: true }, { lineNo: 3, text: 'after' }];
    expect(await linesOf([`short\n${long}\nafter\n`], 10)).toEqual(expected);
    expect(await linesOf([`short\nxxxxx`, `${long}\nafter\n`], 10)).toEqual(expected);
    expect(await linesOf(['0123456789\n'], 10)).toEqual([{ lineNo: 1, text: '0123456789' }]);
  });
});
