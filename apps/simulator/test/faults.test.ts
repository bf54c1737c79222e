import { createHash } from 'node:crypto';
import { generationSeed, renderPng, type RunningSimulator } from '../src';
import { AUTH, armFault, authed, boot, call, waitFor } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const generate = (sim: RunningSimulator) => authed(sim, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a cat' });
const gemini = (sim: RunningSimulator) =>
  call(sim, '/v1beta/models/gemini-2.5-flash-image:generateContent', { headers: AUTH, json: { contents: [{ parts: [{ text: 'x' }] }] } });

describe('faults', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ fastTime: true });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    expect((await call(sim, '/_sim/reset', { method: 'POST' })).status).toBe(200);
  });

  it('rate_limit_empty: one 429 with an empty body, then normal answers', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'rate_limit_empty' });
    const limited = await generate(sim);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    expect(limited.headers.get('x-oneapi-request-id')).toBeTruthy();
    expect((await generate(sim)).status).toBe(200);
  });

  it('rate_limit_json: 429 E2, with a numeric code on the Gemini route', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'rate_limit_json' });
    await armFault(sim, { route: 'gemini.generate', kind: 'rate_limit_json' });
    const openai = await generate(sim);
    expect(openai.status).toBe(429);
    expect(await openai.json()).toEqual({ error: { message: expect.any(String), type: 'requests', param: '', code: 'rate_limit_exceeded' } });
    const google = await gemini(sim);
    expect(google.status).toBe(429);
    expect(((await google.json()) as { error: { code: unknown } }).error.code).toBe(429);
  });

  it('server_error: an upstream 500 (code null), a chosen 5xx, or the E9 panic', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'server_error' });
    await armFault(sim, { route: 'images.generations', kind: 'server_error', status: 503 });
    await armFault(sim, { route: 'images.generations', kind: 'server_error', variant: 'panic' });
    const first = await generate(sim);
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ error: { type: 'server_error', param: '', code: null } });
    expect((await generate(sim)).status).toBe(503);
    const panic = await generate(sim);
    expect(panic.status).toBe(500);
    const body = (await panic.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe('new_api_panic');
    expect(body.error.message).toMatch(/^Panic detected, error: /);
  });

  it('bad_gateway_html: a 502 HTML page from the proxy, without gateway headers', async () => {
    await armFault(sim, { route: 'chat.completions', kind: 'bad_gateway_html' });
    const res = await authed(sim, '/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<title>502 Bad Gateway</title>');
    expect(res.headers.get('x-oneapi-request-id')).toBeNull();
  });

  it('slow: waits delay_ms (scaled by fast time) and then answers normally', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'slow', delay_ms: 6_000 });
    const started = Date.now();
    const res = await generate(sim);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90); // 6000 ms / 60
  });

  it('hang: never answers; the request counts as aborted once the client gives up', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'hang' });
    const controller = new AbortController();
    const pending = fetch(`${sim.url}/v1/images/generations`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-image-1', prompt: 'x' }),
      signal: controller.signal,
    });
    await waitFor(() => sim.state.counters.snapshot().routes['images.generations']?.received === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => sim.state.counters.snapshot().routes['images.generations']?.statuses['aborted'] === 1);
  });

  it('reset: destroys the socket', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'reset' });
    await expect(generate(sim)).rejects.toThrow();
    expect((await generate(sim)).status).toBe(200);
  });

  it('rejected, auth and quota: 400 content policy, 401 E1 (E7 on /api), 403 insufficient_user_quota', async () => {
    await armFault(sim, { route: 'images.edits', kind: 'rejected' });
    const rejected = await authed(sim, '/v1/images/edits', { model: 'gpt-image-1', prompt: 'p', image: 'aGVsbG8=' });
    expect(rejected.status).toBe(400);
    expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe('content_policy_violation');

    await armFault(sim, { route: 'images.generations', kind: 'auth' });
    const auth = await generate(sim);
    expect(auth.status).toBe(401);
    expect(((await auth.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid token \(request id: /);

    await armFault(sim, { route: 'balance', kind: 'auth' });
    const usage = await authed(sim, '/api/usage/token/');
    expect(usage.status).toBe(401);
    expect(await usage.json()).toEqual({ success: false, message: 'Invalid token' });

    await armFault(sim, { route: 'images.generations', kind: 'quota' });
    const quota = await generate(sim);
    expect(quota.status).toBe(403);
    expect(((await quota.json()) as { error: { code: string } }).error.code).toBe('insufficient_user_quota');
  });

  it('applies to the next N requests, or until cleared with times -1; prefixes and * select several routes', async () => {
    await armFault(sim, { route: 'images', kind: 'rate_limit_empty', times: 2 });
    expect((await generate(sim)).status).toBe(429);
    expect((await authed(sim, '/v1/images/edits', { model: 'gpt-image-1', prompt: 'p', image: 'aGVsbG8=' })).status).toBe(429);
    expect((await generate(sim)).status).toBe(200);

    await armFault(sim, { route: '*', kind: 'server_error', times: -1 });
    for (let i = 0; i < 3; i += 1) expect((await authed(sim, '/v1/models')).status).toBe(500);
    const listed = (await (await call(sim, '/_sim/faults')).json()) as { faults: { remaining: number }[] };
    expect(listed.faults).toEqual([expect.objectContaining({ route: '*', kind: 'server_error', remaining: -1 })]);
    expect(await (await call(sim, '/_sim/faults', { method: 'DELETE' })).json()).toEqual({ cleared: 1 });
    expect((await authed(sim, '/v1/models')).status).toBe(200);
  });

  it('is not consumed by requests that fail auth first', async () => {
    await armFault(sim, { route: 'images.generations', kind: 'server_error' });
    expect((await call(sim, '/v1/images/generations', { json: { model: 'gpt-image-1', prompt: 'x' } })).status).toBe(401);
    expect((await generate(sim)).status).toBe(500);
  });

  it('refuses unknown route keys and kinds', async () => {
    expect((await call(sim, '/_sim/faults', { json: { route: 'images.nope', kind: 'hang' } })).status).toBe(400);
    expect((await call(sim, '/_sim/faults', { json: { route: 'images.generations', kind: 'explode' } })).status).toBe(400);
    expect((await call(sim, '/_sim/faults', { json: { route: 'blobs', kind: 'hang', times: 0 } })).status).toBe(400);
  });

  it('can fail blob downloads too', async () => {
    const body = (await (await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'x' })).json()) as { data: { url: string }[] };
    await armFault(sim, { route: 'blobs', kind: 'auth' });
    const denied = await fetch(body.data[0]?.url as string);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('AuthenticationFailed');
    expect((await fetch(body.data[0]?.url as string)).status).toBe(200);
  });
});

describe('counters, reset, clock and config over HTTP', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ fastTime: true, requestsPerMinute: { 'images.generations': 2 } });
  });
  afterAll(() => sim.close());

  it('counts requests per route key and per status; reset clears them with faults, blobs and balance', async () => {
    await call(sim, '/_sim/reset', { method: 'POST' });
    await armFault(sim, { route: 'models', kind: 'rate_limit_empty' });
    await authed(sim, '/v1/models');
    await authed(sim, '/v1/models');
    await call(sim, '/v1/models');
    await authed(sim, '/v1/nope');
    expect(await (await call(sim, '/_sim/counters')).json()).toEqual({
      total: 4,
      routes: { models: { received: 3, statuses: { '429': 1, '200': 1, '401': 1 } }, not_found: { received: 1, statuses: { '404': 1 } } },
      statuses: { '429': 1, '200': 1, '401': 1, '404': 1 },
    });

    await armFault(sim, { route: 'models', kind: 'hang' });
    await generate(sim);
    expect(sim.state.balance.used).toBeGreaterThan(0);
    const state = (await (await call(sim, '/_sim/reset', { method: 'POST' })).json()) as Record<string, unknown>;
    expect(state).toMatchObject({ faults: [], blobs: 0, uploads: 0, balance: { used: 0 } });
    expect(await (await call(sim, '/_sim/counters')).json()).toEqual({ total: 0, routes: {}, statuses: {} });
  });

  it('limits requests per minute per route with an empty 429, on the simulated clock', async () => {
    await call(sim, '/_sim/reset', { method: 'POST' });
    expect((await generate(sim)).status).toBe(200);
    expect((await generate(sim)).status).toBe(200);
    const limited = await generate(sim);
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    expect((await authed(sim, '/v1/models')).status).toBe(200);

    // One simulated minute is 1 s in fast time; move the clock over HTTP.
    const clock = (await (await call(sim, '/_sim/clock', { json: { advance_ms: 1_000 } })).json()) as { fast_time: boolean };
    expect(clock.fast_time).toBe(true);
    expect((await generate(sim)).status).toBe(200);

    await call(sim, '/_sim/config', { json: { requests_per_minute: { 'images.generations': null, models: 1 } } });
    expect((await generate(sim)).status).toBe(200);
    expect((await generate(sim)).status).toBe(200);
    expect((await authed(sim, '/v1/models')).status).toBe(200);
    expect((await authed(sim, '/v1/models')).status).toBe(429);
    expect((await call(sim, '/_sim/config', { json: { requests_per_minute: { nope: 1 } } })).status).toBe(400);
  });

  it('tells other processes which image a seed renders to', async () => {
    const res = await call(sim, '/_sim/media/expected?model=gpt-image-1&prompt=a%20cat&index=0');
    expect(await res.json()).toEqual({
      seed: 'gpt-image-1|a cat|0',
      sha256: sha256(renderPng(generationSeed('gpt-image-1', 'a cat', 0))),
      bytes: renderPng(generationSeed('gpt-image-1', 'a cat', 0)).length,
    });
  });
});
