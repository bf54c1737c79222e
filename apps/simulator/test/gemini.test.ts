import { createHash } from 'node:crypto';
import { editSeed, generationSeed, renderPng, type RunningSimulator } from '../src';
import { boot, call, sseEvents } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

type Part = { text?: string; inlineData?: { mimeType: string; data: string } };
type GeminiBody = {
  candidates: { content?: { role: string; parts: Part[] }; finishReason?: string; index: number }[];
  usageMetadata: Record<string, unknown>;
  modelVersion: string;
  responseId: string;
};

const MODEL = 'gemini-2.5-flash-image';
const goog = { 'x-goog-api-key': 'sk-gemini' };
const ask = (text: string, extra: Record<string, unknown> = {}) => ({ contents: [{ role: 'user', parts: [{ text }] }], ...extra });

describe('Gemini native generateContent', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());

  it('answers a text part and an inline PNG, finishReason STOP and usage', async () => {
    const res = await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: goog, json: ask('draw a cat') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as GeminiBody;
    const [candidate] = body.candidates;
    expect(candidate).toMatchObject({ finishReason: 'STOP', index: 0, content: { role: 'model' } });
    const parts = candidate?.content?.parts ?? [];
    expect(parts[0]?.text).toContain('draw a cat');
    expect(parts[1]?.inlineData?.mimeType).toBe('image/png');
    expect(sha256(Buffer.from(parts[1]?.inlineData?.data ?? '', 'base64'))).toBe(sha256(renderPng(generationSeed(MODEL, 'draw a cat', 0))));
    expect(body.usageMetadata).toMatchObject({ candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1290 }] });
    expect(body.modelVersion).toBe(MODEL);
  });

  it('accepts ?key= and Bearer, and snake_case inline images that change the output', async () => {
    const input = renderPng('photo', 8);
    const json = ask('', {});
    json.contents = [{ role: 'user', parts: [{ text: 'make it blue' }, { inline_data: { mime_type: 'image/png', data: input.toString('base64') } } as never] }];
    const res = await call(sim, `/v1beta/models/${MODEL}:generateContent?key=sk-q`, { json });
    const body = (await res.json()) as GeminiBody;
    const image = body.candidates[0]?.content?.parts.find((p) => p.inlineData)?.inlineData?.data ?? '';
    expect(sha256(Buffer.from(image, 'base64'))).toBe(sha256(renderPng(editSeed(MODEL, 'make it blue', 0, [sha256(input)]))));
    expect((await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: { authorization: 'Bearer sk-b' }, json: ask('x') })).status).toBe(200);
    expect((await call(sim, `/v1beta/models/${MODEL}:generateContent`, { json: ask('x') })).status).toBe(401);
  });

  it('blocks a banned prompt with IMAGE_SAFETY and HTTP 200, without inlineData', async () => {
    const res = await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: goog, json: ask('something forbidden') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as GeminiBody;
    expect(body.candidates[0]?.finishReason).toBe('IMAGE_SAFETY');
    expect(JSON.stringify(body)).not.toContain('inlineData');
  });

  it('answers text only when the prompt says so or the modalities exclude IMAGE', async () => {
    for (const json of [ask('text only please'), ask('a cat', { generationConfig: { responseModalities: ['TEXT'] } }), ask('a cat', { generation_config: { response_modalities: ['TEXT'] } })]) {
      const body = (await (await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: goog, json })).json()) as GeminiBody;
      expect(body.candidates[0]?.finishReason).toBe('STOP');
      expect(body.candidates[0]?.content?.parts).toEqual([{ text: expect.any(String) }]);
    }
  });

  it('always streams :streamGenerateContent as SSE, with or without alt=sse', async () => {
    for (const suffix of ['', '?alt=sse']) {
      const res = await call(sim, `/v1beta/models/${MODEL}:streamGenerateContent${suffix}`, { headers: goog, json: ask('a dog') });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await res.text();
      expect(text.startsWith('data: {')).toBe(true);
      const chunks = sseEvents(text).map((e) => JSON.parse(e) as GeminiBody);
      expect(chunks).toHaveLength(2);
      expect(chunks[0]?.candidates[0]?.content?.parts[0]?.text).toContain('a dog');
      expect(chunks[1]?.candidates[0]).toMatchObject({ finishReason: 'STOP' });
      expect(chunks[1]?.candidates[0]?.content?.parts[0]?.inlineData?.mimeType).toBe('image/png');
    }
  });

  it('uses the OpenAI error shape: 503 unknown model, 500 missing contents', async () => {
    const unknown = await call(sim, '/v1beta/models/gemini-9:generateContent', { headers: goog, json: ask('x') });
    expect(unknown.status).toBe(503);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    const empty = await call(sim, `/v1beta/models/${MODEL}:generateContent`, { headers: goog, json: {} });
    expect(empty.status).toBe(500);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toMatch(/^contents is required \(request id: /);
  });
});
