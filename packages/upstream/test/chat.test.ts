import type { ServerResponse } from 'node:http';
import { extractMediaLinks } from '../src';
import { closeGateways, gateway as startGateway, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, sendJson, type Handler } from './helpers/local-server';

afterEach(closeGateways);

function gateway(handler: Handler, streamIdleMs?: number) {
  return startGateway(handler, streamIdleMs !== undefined ? { timeouts: { streamIdleMs } } : {});
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-oneapi-request-id': REQUEST_ID });
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): string =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-9x',
    object: 'chat.completion.chunk',
    created: 1750000000,
    model: 'gemini-2.5-flash-image',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  })}\n\n`;

/** Writes `text` in pieces of `size` bytes, each in its own write, so lines split across TCP reads. */
function writeInPieces(res: ServerResponse, text: string, size: number): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; offset += size) res.write(bytes.subarray(offset, offset + size));
}

describe('chat.streamCompletion', () => {
  it('joins deltas from a realistic Gemini image stream with PINGs, a multi-MB delta and a usage chunk', async () => {
    const base64 = 'iVBORw0KGgo' + 'A'.repeat(6 * 1024 * 1024);
    const { server, client } = await gateway((_req, res) => {
      startSse(res);
      res.write(': PING\n\n');
      res.write(chunk({ role: 'assistant', content: '' }));
      writeInPieces(res, chunk({ content: `Here is your cat:\n![image](data:image/png;base64,${base64})` }), 7_919);
      res.write(': PING\n\n');
      res.write(chunk({}, 'stop', { usage: { prompt_tokens: 7, completion_tokens: 1295, total_tokens: 1302 } }));
      res.write('data: [DONE]\n\n');
      res.end();
    });
    const deltas: string[] = [];
    const result = await client.chat.streamCompletion(
      { model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'draw a cat' }], extra: { temperature: 0.2, stream: false } },
      { onText: (d) => deltas.push(d) },
    );
    expect(result.text).toBe(`Here is your cat:\n![image](data:image/png;base64,${base64})`);
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({ promptTokens: 7, completionTokens: 1295, totalTokens: 1302 });
    expect(result.model).toBe('gemini-2.5-flash-image');
    expect(deltas).toHaveLength(1);
    expect(extractMediaLinks(result.text)).toEqual([{ kind: 'data', url: `data:image/png;base64,${base64}`, mimeType: 'image/png' }]);
    const sent = JSON.parse(server.requests[0]?.body.toString('utf8') ?? '{}') as Record<string, unknown>;
    expect(sent).toEqual({ temperature: 0.2, model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'draw a cat' }], stream: true });
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');
  });

  it('returns at [DONE] even if the server keeps the response open', async () => {
    const { client } = await gateway((_req, res) => {
      startSse(res);
      res.write(chunk({ content: '生成中… ' }));
      res.write(chunk({ content: '[点击下载](https://cdn.example.com/v/abc.mp4)' }));
      res.write('data: [DONE]\n\n');
      // no res.end(): the stream stays open
    });
    const result = await client.chat.streamCompletion({ model: 'sora-2', messages: [{ role: 'user', content: 'a cat' }] });
    expect(result.text).toBe('生成中… [点击下载](https://cdn.example.com/v/abc.mp4)');
    expect(extractMediaLinks(result.text)).toEqual([{ kind: 'url', url: 'https://cdn.example.com/v/abc.mp4', mimeType: 'video/mp4' }]);
  });

  it('accepts a stream that ends after a finish_reason without [DONE]', async () => {
    const { client } = await gateway((_req, res) => {
      startSse(res);
      res.end(chunk({ content: 'ok' }, 'stop'));
    });
    expect(await client.chat.streamCompletion({ model: 'm', messages: [] })).toEqual({ text: 'ok', finishReason: 'stop', model: 'gemini-2.5-flash-image' });
  });

  it('a stream cut before [DONE] and before a finish_reason is retryable', async () => {
    const { client } = await gateway((_req, res) => {
      startSse(res);
      res.end(chunk({ content: 'half' }));
    });
    const err = await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/ended before \[DONE\]/);
  });

  it('a socket reset mid-stream is retryable', async () => {
    const { client } = await gateway((req, res) => {
      startSse(res);
      res.write(chunk({ content: 'partial' }), () => req.socket.resetAndDestroy());
    });
    const err = await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }));
    expect(err.kind).toBe('retryable');
  });

  it('a silent stream hits the idle timeout', async () => {
    const { client } = await gateway((_req, res) => {
      startSse(res);
      res.write(chunk({ content: 'thinking' }));
    }, 200);
    const err = await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/body timeout/);
  });

  it('an error envelope inside the stream is classified', async () => {
    const { client } = await gateway((_req, res) => {
      startSse(res);
      res.write(chunk({ content: 'start' }));
      res.write(`data: ${JSON.stringify({ error: { message: 'upstream overloaded', type: 'upstream_error', code: 'system_cpu_overloaded' } })}\n\n`);
    });
    const err = await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }));
    expect(err).toMatchObject({ kind: 'retryable', upstreamCode: 'system_cpu_overloaded', requestId: REQUEST_ID });
  });

  it('parses a plain chat.completion JSON answer given despite stream:true', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'gpt-4o-image',
        choices: [{ index: 0, message: { role: 'assistant', content: '![img](https://files.example.com/a.png)' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 },
      }),
    );
    const deltas: string[] = [];
    const result = await client.chat.streamCompletion({ model: 'gpt-4o-image', messages: [] }, { onText: (d) => deltas.push(d) });
    expect(result).toEqual({
      text: '![img](https://files.example.com/a.png)',
      finishReason: 'stop',
      usage: { promptTokens: 3, completionTokens: 9, totalTokens: 12 },
      model: 'gpt-4o-image',
    });
    expect(deltas).toEqual(['![img](https://files.example.com/a.png)']);
  });

  it('sniffs SSE sent with a wrong content type', async () => {
    const { client } = await gateway((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${chunk({ content: 'hi' })}data: [DONE]\n\n`);
    });
    expect((await client.chat.streamCompletion({ model: 'm', messages: [] })).text).toBe('hi');
  });

  it('HTTP errors before the stream are classified (429 empty, 503 model_not_found)', async () => {
    let call = 0;
    const { client } = await gateway((_req, res) => {
      call += 1;
      if (call === 1) {
        res.writeHead(429);
        res.end();
        return;
      }
      sendJson(res, 503, { error: { message: 'No available channel for model m under group default (distributor)', type: 'new_api_error', code: 'model_not_found' } });
    });
    expect((await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }))).kind).toBe('rate_limited');
    expect((await upstreamRejection(client.chat.streamCompletion({ model: 'm', messages: [] }))).kind).toBe('rejected');
  });
});
