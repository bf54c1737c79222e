import type { RunningSimulator } from '../src';
import { AUTH, authed, boot, call } from './helpers';

describe('models and auth', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());

  it('lists models in OpenAI format with success:true and the gateway headers', async () => {
    const res = await authed(sim, '/v1/models');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-oneapi-request-id')).toMatch(/^\d{14}\d{1,9}[0-9a-f]{8}[A-Za-z0-9]{8}$/);
    expect(res.headers.get('x-new-api-version')).toBeTruthy();
    const body = (await res.json()) as { success: boolean; object: string; data: { id: string; owned_by: string; created: number }[] };
    expect(body).toMatchObject({ success: true, object: 'list' });
    const ids = body.data.map((m) => m.id);
    for (const id of ['gpt-image-1', 'dall-e-3', 'dall-e-2', 'gemini-2.5-flash-image', 'gpt-4o-image', 'sora-2', 'text-embedding-3-small', 'whisper-1', 'tts-1', 'mj_imagine']) {
      expect(ids).toContain(id);
    }
    expect(body.data.find((m) => m.id === 'mj_imagine')).toMatchObject({ object: 'model', created: 1626777600, owned_by: 'custom' });
  });

  it('lists Gemini models without the models/ prefix and with null fields', async () => {
    const res = await call(sim, '/v1beta/models', { headers: { 'x-goog-api-key': 'sk-any' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: Record<string, unknown>[]; nextPageToken: null };
    expect(body.nextPageToken).toBeNull();
    expect(body.models.find((m) => m['name'] === 'gemini-2.5-flash-image')).toMatchObject({ baseModelId: null, description: null, topK: null });
    expect(body.models.every((m) => !String(m['name']).startsWith('models/'))).toBe(true);
    expect((await call(sim, '/v1beta/models?key=sk-any')).status).toBe(200);
  });

  it('answers a single model, and an unknown one with HTTP 200 and an error body', async () => {
    expect(await (await authed(sim, '/v1/models/dall-e-3')).json()).toMatchObject({ id: 'dall-e-3', object: 'model' });
    const res = await authed(sim, '/v1/models/nope');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      error: { message: "The model 'nope' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
  });

  it('refuses missing, wrong, expired and exhausted keys alike with 401 E1', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: 'Bearer sk-expired' }, { authorization: 'Bearer sk-exhausted' }];
    for (const headers of variants) {
      const res = await call(sim, '/v1/models', { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error['message']).toMatch(/^Invalid token \(request id: \d+/);
      expect(body.error).toMatchObject({ type: 'new_api_error', code: '' });
      expect(body.error).not.toHaveProperty('param');
      expect(body.error['message']).toContain(res.headers.get('x-oneapi-request-id'));
    }
  });

  it('speaks Chinese when asked', async () => {
    const res = await call(sim, '/v1/models', { headers: { 'accept-language': 'zh-CN' } });
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^无效的令牌/);
  });

  it('answers unknown /v1 paths with E10', async () => {
    const res = await authed(sim, '/v1/videos-nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: 'Invalid URL (GET /v1/videos-nope)', type: 'invalid_request_error', param: '', code: '' } });
  });
});

describe('apiKey option', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ apiKey: 'sk-only' });
  });
  afterAll(() => sim.close());

  it('accepts only that key (a channel pin suffix is allowed)', async () => {
    expect((await call(sim, '/v1/models', { headers: { authorization: 'Bearer sk-only' } })).status).toBe(200);
    expect((await call(sim, '/v1/models', { headers: { authorization: 'Bearer sk-only-12' } })).status).toBe(200);
    expect((await call(sim, '/v1/models', { headers: AUTH })).status).toBe(401);
    expect((await call(sim, '/v1beta/models', { headers: { 'x-goog-api-key': 'sk-only' } })).status).toBe(200);
    expect((await call(sim, '/v1beta/models?key=sk-other')).status).toBe(401);
  });
});
