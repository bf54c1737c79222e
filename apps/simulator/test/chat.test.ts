import { createHash } from 'node:crypto';
import { generationSeed, renderMp4, renderPng, type RunningSimulator } from '../src';
import { AUTH, boot, call, sseEvents } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

type Chunk = {
  id: string;
  object: string;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

const chat = (model: string, text: string, stream = true) => ({ model, stream, messages: [{ role: 'user', content: text }] });

async function streamChat(sim: RunningSimulator, body: unknown): Promise<{ events: string[]; chunks: Chunk[]; content: string }> {
  const res = await call(sim, '/v1/chat/completions', { headers: AUTH, json: body });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = sseEvents(await res.text());
  const chunks = events.filter((e) => e.startsWith('{')).map((e) => JSON.parse(e) as Chunk);
  return { events, chunks, content: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
}

describe('POST /v1/chat/completions', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ fastTime: true });
  });
  afterAll(() => sim.close());

  it('streams a Gemini image as one data-URL delta, then finish_reason + usage, then [DONE]', async () => {
    const { events, chunks } = await streamChat(sim, chat('gemini-2.5-flash-image', 'a cat'));
    expect(events[events.length - 1]).toBe('[DONE]');
    expect(chunks[0]?.choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id && c.model === 'gemini-2.5-flash-image')).toBe(true);
    const withImage = chunks.filter((c) => c.choices[0]?.delta.content?.includes('data:image/png;base64,'));
    expect(withImage).toHaveLength(1);
    const match = /!\[image\]\(data:image\/png;base64,([^)]+)\)/.exec(withImage[0]?.choices[0]?.delta.content ?? '');
    expect(sha256(Buffer.from(match?.[1] ?? '', 'base64'))).toBe(sha256(renderPng(generationSeed('gemini-2.5-flash-image', 'a cat', 0))));
    const last = chunks[chunks.length - 1];
    expect(last?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(last?.usage?.total_tokens).toBeGreaterThan(1290);
  });

  it('streams progress then an https-style image link for gpt-4o-image', async () => {
    const { content } = await streamChat(sim, chat('gpt-4o-image', 'a dog'));
    expect(content).toContain('进度 100%');
    const url = /!\[[^\]]*\]\((https?:\/\/[^)\s]+)\)/.exec(content)?.[1] ?? '';
    expect(url).toMatch(/\/_sim\/blobs\/img_\w+\.png$/);
    const png = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(sha256(png)).toBe(sha256(renderPng(generationSeed('gpt-4o-image', 'a dog', 0))));
  });

  it('streams a video link for sora-2-chat and serves video/mp4 bytes there', async () => {
    const { content } = await streamChat(sim, chat('sora-2-chat', 'a wave'));
    const url = /https?:\/\/\S+\.mp4/.exec(content)?.[0] ?? '';
    expect(content).toContain(`[video](${url})`);
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(renderMp4(generationSeed('sora-2-chat', 'a wave', 0))));
  });

  it('adds : PING comments when ssePing is on', async () => {
    const pinging = await boot({ fastTime: true, ssePing: true });
    try {
      const { events, content } = await streamChat(pinging, chat('gpt-4o-mini', 'hello there my friend'));
      expect(events.filter((e) => e === ': PING').length).toBeGreaterThan(0);
      expect(content).toBe('This is a simulated reply to: hello there my friend');
    } finally {
      await pinging.close();
    }
  });

  it('answers a plain chat.completion without stream', async () => {
    const res = await call(sim, '/v1/chat/completions', { headers: AUTH, json: chat('gpt-4o-image', 'a fox', false) });
    const body = (await res.json()) as { object: string; choices: { message: { content: string }; finish_reason: string }[]; usage: object };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]?.message.content).toMatch(/!\[image\]\(http:\/\/\S+\.png\)/);
    expect(body.choices[0]?.finish_reason).toBe('stop');
  });

  it('ends a banned Gemini image prompt with content_filter and no image', async () => {
    const { chunks, content } = await streamChat(sim, chat('gemini-2.5-flash-image', 'forbidden'));
    expect(content).not.toContain('data:image');
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe('content_filter');
  });

  it('reproduces the gateway errors: no model (400 E1), unknown model (503), no messages (500)', async () => {
    const noModel = await call(sim, '/v1/chat/completions', { headers: AUTH, json: { messages: [{ role: 'user', content: 'x' }] } });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as { error: object }).error).not.toHaveProperty('param');
    expect((await call(sim, '/v1/chat/completions', { headers: AUTH, json: chat('nope', 'x') })).status).toBe(503);
    expect((await call(sim, '/v1/chat/completions', { headers: AUTH, json: { model: 'gpt-4o', messages: [] } })).status).toBe(500);
    const bad = await call(sim, '/v1/chat/completions', { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{oops' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid request/);
  });
});
