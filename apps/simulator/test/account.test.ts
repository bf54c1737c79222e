import type { RunningSimulator } from '../src';
import { AUTH, authed, boot, call } from './helpers';

describe('balance routes', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ quotaGranted: 10_000_000, imageCostQuota: 20_000, usageTokenLimit: null });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  it('redirects /api/usage/token to the slash form with 301', async () => {
    const res = await call(sim, '/api/usage/token?x=1', { headers: AUTH, redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/api/usage/token/?x=1');
  });

  it('reports token usage in quota units with code:true', async () => {
    const res = await authed(sim, '/api/usage/token/');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      code: true,
      message: 'ok',
      data: {
        object: 'token_usage',
        name: 'sim-token',
        total_granted: 10_000_000,
        total_used: 0,
        total_available: 10_000_000,
        unlimited_quota: false,
        model_limits: {},
        model_limits_enabled: false,
        expires_at: 0,
      },
    });
  });

  it('answers E7 with 401 for a missing or unknown token, but lets expired tokens read', async () => {
    const missing = await call(sim, '/api/usage/token/');
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ success: false, message: 'Token not provided' });
    const unknown = await call(sim, '/api/usage/token/', { headers: { authorization: 'Bearer nope' } });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ success: false, message: 'Invalid token' });
    const expired = await call(sim, '/api/usage/token/', { headers: { authorization: 'Bearer sk-expired' } });
    expect(expired.status).toBe(200);
    expect(((await expired.json()) as { data: { expires_at: number } }).data.expires_at).toBeGreaterThan(0);
    const exhausted = await call(sim, '/api/usage/token/', { headers: { authorization: 'Bearer sk-exhausted' } });
    expect(((await exhausted.json()) as { data: { total_available: number } }).data.total_available).toBe(0);
  });

  it('serves the billing routes in dollars and cents, and the balance falls as images are made', async () => {
    const subscription = await authed(sim, '/v1/dashboard/billing/subscription');
    expect(await subscription.json()).toEqual({
      object: 'billing_subscription',
      has_payment_method: true,
      soft_limit_usd: 20,
      hard_limit_usd: 20,
      system_hard_limit_usd: 20,
      access_until: 0,
    });
    expect((await authed(sim, '/dashboard/billing/subscription')).status).toBe(200);
    expect(await (await authed(sim, '/v1/dashboard/billing/usage')).json()).toEqual({ object: 'list', total_usage: 0 });

    // dall-e is priced per image (gpt-image by its usage tokens)
    const images = await authed(sim, '/v1/images/generations', { model: 'dall-e-2', prompt: 'a cat', n: 2 });
    expect(images.status).toBe(200);

    expect(await (await authed(sim, '/v1/dashboard/billing/usage')).json()).toEqual({ object: 'list', total_usage: 8 });
    const usage = (await (await authed(sim, '/api/usage/token/')).json()) as { data: { total_used: number; total_available: number } };
    expect(usage.data).toMatchObject({ total_used: 40_000, total_available: 9_960_000 });
    expect((await call(sim, '/v1/dashboard/billing/usage')).status).toBe(401);
  });

  it('refuses images with 403 insufficient_user_quota when the balance is spent', async () => {
    sim.state.balance.charge(sim.state.balance.available);
    const res = await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat' });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'new_api_error', code: 'insufficient_user_quota', param: '' });
    expect(body.error['message']).toMatch(/^用户额度不足, 剩余额度: ＄0\.000000 \(request id: /);
  });

  it('charges token-billed answers by their usage (ratio × (prompt + completion × completion ratio)) and audio per call', async () => {
    const used = () => sim.state.balance.used;
    const chat = (await (await authed(sim, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(used()).toBe(chat.usage.prompt_tokens + chat.usage.completion_tokens);

    let before = used();
    const embedding = (await (await authed(sim, '/v1/embeddings', { model: 'text-embedding-3-small', input: ['one two', 'three'] })).json()) as { usage: { prompt_tokens: number } };
    expect(used() - before).toBe(embedding.usage.prompt_tokens);

    before = used();
    const image = (await (await authed(sim, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a cat' })).json()) as { usage: { input_tokens: number; output_tokens: number } };
    expect(used() - before).toBe((image.usage.input_tokens + image.usage.output_tokens * 8) * 5);

    before = used();
    const speech = await authed(sim, '/v1/audio/speech', { model: 'tts-1', input: 'hello', voice: 'alloy' });
    expect(speech.status).toBe(200);
    expect(used() - before).toBe(5_000);
  });
});

describe('CriticalRateLimit on /api/usage/token/', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ usageTokenLimit: { max: 3, windowSec: 1200 } });
  });
  afterAll(() => sim.close());

  it('answers 429 with an empty body past the limit, counting failures too, until the window moves', async () => {
    expect((await call(sim, '/api/usage/token/')).status).toBe(401);
    expect((await authed(sim, '/api/usage/token/')).status).toBe(200);
    expect((await authed(sim, '/api/usage/token/')).status).toBe(200);
    const limited = await authed(sim, '/api/usage/token/');
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    expect(limited.headers.get('retry-after')).toBeNull();
    // The redirect happens before the limiter.
    expect((await call(sim, '/api/usage/token', { headers: AUTH, redirect: 'manual' })).status).toBe(301);

    sim.state.clock.advance(1_200_000);
    expect((await authed(sim, '/api/usage/token/')).status).toBe(200);
  });

  it('can be changed at run time through /_sim/config', async () => {
    sim.state.reset();
    const res = await call(sim, '/_sim/config', { json: { usage_token_limit: { max: 1, window_sec: 60 } } });
    expect(res.status).toBe(200);
    expect((await authed(sim, '/api/usage/token/')).status).toBe(200);
    expect((await authed(sim, '/api/usage/token/')).status).toBe(429);
  });
});
