import {
  decodeEmbeddingBase64,
  encodeEmbeddingBase64,
  estimateEmbeddingTokens,
  expectedEmbedding,
  tokenArrayText,
  type RunningSimulator,
} from '../src';
import { AUTH, armFault, authed, boot, call } from './helpers';

type EmbeddingItem = { object: string; index: number; embedding: number[] | string };
type EmbeddingBody = { object: string; data: EmbeddingItem[]; model: string; usage: { prompt_tokens: number; total_tokens: number } };
type ErrorBody = { error: { message: string; type: string; param?: string; code: unknown } };

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const embed = (sim: RunningSimulator, body: Record<string, unknown>) => authed(sim, '/v1/embeddings', { model: 'text-embedding-3-small', ...body });
const geminiBatch = (sim: RunningSimulator, model: string, requests: unknown[], headers: Record<string, string> = AUTH) =>
  call(sim, `/v1beta/models/${model}:batchEmbedContents`, { headers, json: { requests } });
const part = (text: string, extra: Record<string, unknown> = {}) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] }, ...extra });

describe('expectedEmbedding', () => {
  it('is deterministic, float32, unit length, sized by the model, and depends on model and text', () => {
    const v = expectedEmbedding('text-embedding-3-small', 'hello');
    expect(v).toHaveLength(1536);
    expect(expectedEmbedding('text-embedding-3-small', 'hello')).toEqual(v);
    expect(v.every((x) => Math.fround(x) === x)).toBe(true);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(expectedEmbedding('text-embedding-3-large', 'hello')).toHaveLength(3072);
    expect(expectedEmbedding('text-embedding-ada-002', 'hello')).toHaveLength(1536);
    expect(expectedEmbedding('gemini-embedding-001', 'hello')).toHaveLength(3072);
    expect(expectedEmbedding('text-embedding-3-small', 'hello!')).not.toEqual(v);
    expect(expectedEmbedding('text-embedding-3-large', 'hello').slice(0, 8)).not.toEqual(v.slice(0, 8));
  });

  it('shortens like OpenAI (prefix, renormalised) and like Google (prefix, not renormalised)', () => {
    const short = expectedEmbedding('text-embedding-3-small', 'hello', 8);
    expect(norm(short)).toBeCloseTo(1, 5);
    const full = expectedEmbedding('text-embedding-3-small', 'hello');
    const scale = (short[0] as number) / (full[0] as number);
    short.forEach((x, i) => expect(x).toBeCloseTo((full[i] as number) * scale, 5));

    const gemini = expectedEmbedding('gemini-embedding-001', 'hello', 8);
    expect(gemini).toEqual(expectedEmbedding('models/gemini-embedding-001', 'hello').slice(0, 8));
    expect(norm(gemini)).toBeLessThan(0.5);
  });

  it('round-trips base64 as little-endian float32', () => {
    const v = expectedEmbedding('text-embedding-3-small', 'x', 4);
    const b64 = encodeEmbeddingBase64(v);
    expect(Buffer.from(b64, 'base64').readFloatLE(4)).toBe(v[1]);
    expect(decodeEmbeddingBase64(b64)).toEqual(v);
  });

  it('counts ceil(length / 4) tokens per input', () => {
    expect([estimateEmbeddingTokens('a'), estimateEmbeddingTokens('abcd'), estimateEmbeddingTokens('abcde'), estimateEmbeddingTokens('')]).toEqual([1, 1, 2, 0]);
  });
});

describe('POST /v1/embeddings', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  const texts = ['alpha', 'the second input', 'γ', 'a fourth, longer input text'];

  it('answers one vector per input, in order by index, with usage', async () => {
    const res = await embed(sim, { input: texts });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingBody;
    expect(body.object).toBe('list');
    expect(body.model).toBe('text-embedding-3-small');
    expect(body.data.map((d) => [d.object, d.index])).toEqual(texts.map((_, i) => ['embedding', i]));
    body.data.forEach((d, i) => expect(d.embedding).toEqual(expectedEmbedding('text-embedding-3-small', texts[i] as string)));
    const tokens = texts.reduce((s, t) => s + Math.ceil(t.length / 4), 0);
    expect(body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('base64 decodes to exactly the float answer', async () => {
    const floats = (await (await embed(sim, { input: texts, dimensions: 256 })).json()) as EmbeddingBody;
    const b64 = (await (await embed(sim, { input: texts, dimensions: 256, encoding_format: 'base64' })).json()) as EmbeddingBody;
    expect(typeof b64.data[0]?.embedding).toBe('string');
    expect(b64.data.map((d) => decodeEmbeddingBase64(d.embedding as string))).toEqual(floats.data.map((d) => d.embedding));
    expect((floats.data[0]?.embedding as number[]).length).toBe(256);
  });

  it('takes a single string, token arrays, the large and ada models, and /v1/engines/{model}/embeddings', async () => {
    const single = (await (await embed(sim, { input: 'solo' })).json()) as EmbeddingBody;
    expect(single.data).toHaveLength(1);
    expect(single.usage.prompt_tokens).toBe(1);

    const tokens = (await (await embed(sim, { input: [[1, 2, 3], [4, 5]] })).json()) as EmbeddingBody;
    expect(tokens.data[1]?.embedding).toEqual(expectedEmbedding('text-embedding-3-small', tokenArrayText([4, 5])));
    expect(tokens.usage.prompt_tokens).toBe(5);
    const oneTokenArray = (await (await embed(sim, { input: [7, 8] })).json()) as EmbeddingBody;
    expect(oneTokenArray.data).toHaveLength(1);

    const large = (await (await embed(sim, { model: 'text-embedding-3-large', input: ['x'] })).json()) as EmbeddingBody;
    expect((large.data[0]?.embedding as number[]).length).toBe(3072);
    const ada = (await (await embed(sim, { model: 'text-embedding-ada-002', input: ['x'] })).json()) as EmbeddingBody;
    expect((ada.data[0]?.embedding as number[]).length).toBe(1536);

    const engines = await authed(sim, '/v1/engines/text-embedding-3-large/embeddings', { input: ['x'], dimensions: 3 });
    expect(((await engines.json()) as EmbeddingBody).data[0]?.embedding).toEqual(expectedEmbedding('text-embedding-3-large', 'x', 3));
  });

  it('empty input is the gateway’s 500 invalid_request "input is empty"', async () => {
    for (const input of [undefined, '', []]) {
      const res = await embed(sim, { input });
      expect(res.status).toBe(500);
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ type: 'new_api_error', param: '', code: 'invalid_request' });
      expect(body.error.message).toMatch(/^input is empty \(request id: /);
    }
  });

  it('refuses what OpenAI refuses with 400: over 2048 inputs, an empty item, bad dimensions, too many tokens', async () => {
    const tooMany = await embed(sim, { input: Array.from({ length: 2049 }, (_, i) => `t${i}`) });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', param: 'input', code: null });
    expect((await embed(sim, { input: Array.from({ length: 2048 }, (_, i) => `t${i}`), dimensions: 1 })).status).toBe(200);

    expect((await embed(sim, { input: ['ok', ''] })).status).toBe(400);
    expect((await embed(sim, { input: ['ok', 3.5] })).status).toBe(400);
    expect((await embed(sim, { input: ['ok'], dimensions: 2000 })).status).toBe(400);
    expect((await embed(sim, { input: ['ok'], dimensions: 0 })).status).toBe(400);
    const ada = await embed(sim, { model: 'text-embedding-ada-002', input: ['ok'], dimensions: 8 });
    expect(ada.status).toBe(400);
    expect(((await ada.json()) as ErrorBody).error.param).toBe('dimensions');
    expect((await embed(sim, { input: ['ok'], encoding_format: 'int8' })).status).toBe(400);

    const tooLong = await embed(sim, { input: ['a'.repeat(8192 * 4 + 1)] });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as ErrorBody).error.message).toMatch(/maximum context length is 8192 tokens, however you requested 8193 tokens/);
    const overBudget = await embed(sim, { input: Array.from({ length: 37 }, () => 'b'.repeat(8192 * 4)) });
    expect(overBudget.status).toBe(400);
    expect(((await overBudget.json()) as ErrorBody).error).toMatchObject({ type: 'max_tokens_per_request', code: 'max_tokens_per_request' });
  });

  it('checks the model like the gateway: missing 400 E1, unknown 503 model_not_found, not an embedding model 400', async () => {
    const missing = await authed(sim, '/v1/embeddings', { input: ['x'] });
    expect(missing.status).toBe(400);
    const missingBody = (await missing.json()) as ErrorBody;
    expect(missingBody.error).not.toHaveProperty('param');
    expect(missingBody.error.message).toMatch(/^Model name not specified/);
    const unknown = await embed(sim, { model: 'text-embedding-9', input: ['x'] });
    expect(unknown.status).toBe(503);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('model_not_found');
    expect((await embed(sim, { model: 'gpt-4o', input: ['x'] })).status).toBe(400);
  });

  it('FAIL_CHUNK makes the whole request answer 500 every time; FAIL_ONCE only the first time', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const res = await embed(sim, { input: ['fine', 'this one has FAIL_CHUNK inside'] });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { type: 'server_error', param: '', code: null } });
    }
    const once = { input: ['fine', 'FAIL_ONCE please'] };
    expect((await embed(sim, once)).status).toBe(500);
    expect((await embed(sim, once)).status).toBe(200);
    expect((await embed(sim, { input: ['other', 'FAIL_ONCE please'] })).status).toBe(500); // another request
    sim.state.reset();
    expect((await embed(sim, once)).status).toBe(500);
  });

  it('reports totals and recent requests at /_sim/embeddings', async () => {
    await embed(sim, { input: ['a', 'bb'], dimensions: 4, encoding_format: 'base64' });
    await embed(sim, { input: ['FAIL_CHUNK'] });
    const stats = (await (await call(sim, '/_sim/embeddings?recent=5')).json()) as { totals: Record<string, number>; recent: Array<Record<string, unknown>> };
    expect(stats.totals).toEqual({ requests: 2, succeeded: 1, failed: 1, inputs: 3, embedded: 2, tokens: 2 });
    expect(stats.recent).toEqual([
      expect.objectContaining({ route: 'embeddings', model: 'text-embedding-3-small', inputs: 2, tokens: 2, dimensions: 4, encoding: 'base64', status: 200 }),
      expect.objectContaining({ inputs: 1, status: 500, failure: 'fail_chunk' }),
    ]);
    expect(((await (await call(sim, '/_sim/embeddings?recent=0')).json()) as { recent: unknown[] }).recent).toEqual([]);
  });

  it('answers the armed faults of the `embeddings` key', async () => {
    await armFault(sim, { route: 'embeddings', kind: 'rate_limit_json' });
    await armFault(sim, { route: 'embeddings', kind: 'bad_gateway_html' });
    expect((await embed(sim, { input: ['x'] })).status).toBe(429);
    expect((await embed(sim, { input: ['x'] })).status).toBe(502);
    expect((await embed(sim, { input: ['x'] })).status).toBe(200);
  });

  it('answers the same bytes in two simulators', async () => {
    const other = await boot({ seed: 'another-seed' });
    try {
      const request = { input: texts, encoding_format: 'base64', dimensions: 64 };
      expect(await (await embed(other, request)).text()).toBe(await (await embed(sim, request)).text());
    } finally {
      await other.close();
    }
  });
});

describe('Gemini :batchEmbedContents and :embedContent', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  it('batchEmbedContents: one {values} per request, in order, the same vectors as expectedEmbedding', async () => {
    const res = await geminiBatch(sim, 'gemini-embedding-001', [part('a'), part('b', { outputDimensionality: 16, taskType: 'RETRIEVAL_DOCUMENT' })], {
      'x-goog-api-key': 'sk-gemini',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { embeddings: Array<{ values: number[] }> };
    expect(body.embeddings).toHaveLength(2);
    expect(body.embeddings[0]?.values).toEqual(expectedEmbedding('gemini-embedding-001', 'a'));
    expect(body.embeddings[1]?.values).toEqual(expectedEmbedding('gemini-embedding-001', 'b', 16));
    expect(Object.keys(body)).toEqual(['embeddings']);
  });

  it('embedContent: {embedding:{values}}; parts are joined', async () => {
    const res = await call(sim, '/v1beta/models/gemini-embedding-001:embedContent?key=sk-q', {
      json: { content: { parts: [{ text: 'hel' }, { text: 'lo' }] }, outputDimensionality: 8 },
    });
    expect(await res.json()).toEqual({ embedding: { values: expectedEmbedding('gemini-embedding-001', 'hello', 8) } });
  });

  it('errors: over 100 requests and empty content 400 (numeric code), unknown 503, not an embedding model 404', async () => {
    const tooMany = await geminiBatch(sim, 'gemini-embedding-001', Array.from({ length: 101 }, (_, i) => part(`t${i}`)));
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as ErrorBody).error.code).toBe(400);
    expect((await geminiBatch(sim, 'gemini-embedding-001', Array.from({ length: 100 }, (_, i) => part(`t${i}`)))).status).toBe(200);
    expect((await geminiBatch(sim, 'gemini-embedding-001', [])).status).toBe(400);
    expect((await geminiBatch(sim, 'gemini-embedding-001', [{ content: { parts: [] } }])).status).toBe(400);
    expect((await geminiBatch(sim, 'gemini-embedding-001', [part('x', { outputDimensionality: 4000 })])).status).toBe(400);
    expect((await geminiBatch(sim, 'gemini-embedding-9', [part('x')])).status).toBe(503);
    const notEmbedding = await geminiBatch(sim, 'gemini-2.5-flash', [part('x')]);
    expect(notEmbedding.status).toBe(404);
    expect(((await notEmbedding.json()) as ErrorBody).error.code).toBe(404);
  });

  it('FAIL_CHUNK and the `gemini.embed` faults answer Gemini-flavoured errors', async () => {
    const failed = await geminiBatch(sim, 'gemini-embedding-001', [part('ok'), part('FAIL_CHUNK')]);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as ErrorBody).error.code).toBe(500);
    await armFault(sim, { route: 'gemini.embed', kind: 'rate_limit_json' });
    const limited = await geminiBatch(sim, 'gemini-embedding-001', [part('ok')]);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as ErrorBody).error.code).toBe(429);
    // `gemini` selects both Gemini keys; the generate route is not affected by an embed fault.
    await armFault(sim, { route: 'gemini.embed', kind: 'server_error' });
    const generate = await call(sim, '/v1beta/models/gemini-2.5-flash:generateContent', { headers: AUTH, json: { contents: [{ parts: [{ text: 'hi' }] }] } });
    expect(generate.status).toBe(200);
    expect((await geminiBatch(sim, 'gemini-embedding-001', [part('ok')])).status).toBe(500);
  });
});
