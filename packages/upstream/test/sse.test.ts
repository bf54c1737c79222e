import { parseSseText, SseParser, type SseEvent } from '../src';

function parseChunks(chunks: Array<string | Buffer>): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return { events, comments };
}

const STREAM = [
  ': PING',
  '',
  'data: {"id":"chatcmpl-9x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-9x","choices":[{"index":0,"delta":{"content":"猫 here:\\n![image](data:image/png;base64,iVBORw0KGgo=)"},"finish_reason":null}]}',
  '',
  ': PING',
  '',
  'data: {"id":"chatcmpl-9x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":1295,"total_tokens":1302}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

describe('SseParser', () => {
  const whole = parseChunks([STREAM]);

  it('parses events and reports comments apart', () => {
    expect(whole.events.map((e) => e.data.slice(0, 10))).toEqual(['{"id":"cha', '{"id":"cha', '{"id":"cha', '[DONE]']);
    expect(whole.comments).toEqual(['PING', 'PING']);
  });

  it('gives the same events whatever the chunk boundaries (every split point, incl. inside UTF-8)', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    for (let split = 1; split < bytes.length; split += 1) {
      const { events } = parseChunks([bytes.subarray(0, split), bytes.subarray(split)]);
      expect(events).toEqual(whole.events);
    }
    const oneByteAtATime = Array.from(bytes, (b) => Buffer.from([b]));
    expect(parseChunks(oneByteAtATime).events).toEqual(whole.events);
  });

  it('accepts CRLF and lone CR line ends, also with CR and LF in different chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    expect(parseChunks([crlf]).events).toEqual(whole.events);
    const cr = STREAM.replace(/\n/g, '\r');
    expect(parseChunks([cr]).events).toEqual(whole.events);
    const bytes = Buffer.from(crlf, 'utf8');
    const firstCr = bytes.indexOf(0x0d);
    expect(parseChunks([bytes.subarray(0, firstCr + 1), bytes.subarray(firstCr + 1)]).events).toEqual(whole.events);
  });

  it('joins multi-line data, keeps event type and id, strips one space and a BOM', () => {
    const events = parseSseText('\uFEFFevent: update\nid: 7\ndata:  two spaces\ndata:x\n\ndata\n\n');
    expect(events).toEqual([
      { event: 'update', id: '7', data: ' two spaces\nx' },
      { id: '7', data: '' },
    ]);
  });

  it('dispatches a last event that lacks its blank line, and ignores unknown fields', () => {
    expect(parseSseText('retry: 10\nfoo: bar\ndata: [DONE]')).toEqual([{ data: '[DONE]' }]);
  });

  it('handles a huge single delta split into many chunks in linear time', () => {
    const payload = 'A'.repeat(32 * 1024 * 1024);
    const line = Buffer.from(`data: {"choices":[{"delta":{"content":"${payload}"}}]}\n\n`);
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => events.push(e) });
    const started = process.hrtime.bigint();
    for (let offset = 0; offset < line.length; offset += 16 * 1024) parser.push(line.subarray(offset, offset + 16 * 1024));
    parser.end();
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(line.length - 'data: '.length - 2);
    // Quadratic re-scanning of 2048 chunks × 32 MB would take minutes.
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
