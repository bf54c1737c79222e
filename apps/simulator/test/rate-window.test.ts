import { RateWindows, type RunningSimulator } from '../src';
import { armFault, authed, boot, call } from './helpers';

describe('RateWindows (sliding log)', () => {
  it('allows max hits per window; refused hits do not push the window', () => {
    const w = new RateWindows();
    const hit = (at: number) => w.tryHit('k', 3, 1000, at);
    expect([hit(0), hit(10), hit(20), hit(30), hit(999)]).toEqual([true, true, true, false, false]);
    expect(hit(1000)).toBe(true); // the hit at 0 left the window
    expect(hit(1005)).toBe(false); // 10, 20, 1000 are inside
    expect(hit(1010)).toBe(true);
    expect(w.stats('k', 1010)).toMatchObject({ max: 3, windowMs: 1000, allowed: 5, limited: 3, inWindow: 3, firstAllowedAtMs: 0, lastAllowedAtMs: 1010, firstLimitedAtMs: 30, lastLimitedAtMs: 1005 });
  });

  it('never lets more than max through in any window, and reaches the floor set by the limit', () => {
    const w = new RateWindows();
    const allowedAt: number[] = [];
    // A client hammering every 7 ms for 10 windows.
    for (let t = 0; t < 10_000; t += 7) if (w.tryHit('k', 50, 1000, t)) allowedAt.push(t);
    for (let i = 50; i < allowedAt.length; i += 1) expect((allowedAt[i] as number) - (allowedAt[i - 50] as number)).toBeGreaterThanOrEqual(1000);
    expect(allowedAt).toHaveLength(500); // 10 windows × 50
  });

  it('keeps the newest entries when the limit changes, and 0 refuses everything', () => {
    const w = new RateWindows();
    for (let t = 0; t < 5; t += 1) expect(w.tryHit('k', 5, 1000, t)).toBe(true);
    expect(w.tryHit('k', 3, 1000, 10)).toBe(false); // 5 hits inside, the newest 3 are kept
    expect(w.tryHit('k', 6, 1000, 11)).toBe(true);
    expect(w.tryHit('k', 0, 1000, 5000)).toBe(false);
    w.reset();
    expect(w.stats('k', 0)).toBeNull();
  });

  it('counts a million hits against a 100 000 limit exactly, keeping no more than the limit in its log', () => {
    const w = new RateWindows();
    let allowed = 0;
    for (let i = 0; i < 1_000_000; i += 1) if (w.tryHit('k', 100_000, 60_000, i / 10)) allowed += 1;
    expect(allowed).toBe(200_000); // 100 s of simulated time: the windows starting at 0 and 60 s
    expect(w.stats('k', 99_999.9)).toMatchObject({ allowed: 200_000, limited: 800_000, inWindow: 100_000 });
  });
});

describe('requests_per_minute on embeddings (metered limiter)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot({ fastTime: true, requestsPerMinute: { embeddings: 3 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  const embed = () => authed(sim, '/v1/embeddings', { model: 'text-embedding-3-small', input: ['x'], dimensions: 2 });

  it('answers 429 with an empty body past the limit, counted apart from faults at /_sim/limits', async () => {
    for (let i = 0; i < 3; i += 1) expect((await embed()).status).toBe(200);
    const limited = await embed();
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    expect(limited.headers.get('content-length')).toBe('0');
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.headers.get('x-oneapi-request-id')).toBeTruthy();

    await armFault(sim, { route: 'embeddings', kind: 'rate_limit_empty' });
    sim.state.clock.advance(1000); // one simulated minute (fast time: 60 s / 60)
    expect((await embed()).status).toBe(429); // the fault, after the limiter let it through

    const limits = (await (await call(sim, '/_sim/limits')).json()) as { algorithm: string; window_ms: number; keys: Record<string, Record<string, unknown>> };
    expect(limits.algorithm).toBe('sliding_log');
    expect(limits.window_ms).toBe(1000);
    expect(limits.keys['embeddings']).toMatchObject({ requests_per_minute: 3, allowed: 4, limited: 1, in_window: 1 });
    const counters = (await (await call(sim, '/_sim/counters')).json()) as { routes: Record<string, { received: number; statuses: Record<string, number> }> };
    expect(counters.routes['embeddings']).toEqual({ received: 5, statuses: { '200': 3, '429': 2 } });
    const totals = (await (await call(sim, '/_sim/embeddings')).json()) as { totals: { requests: number } };
    expect(totals.totals.requests).toBe(3); // limited and faulted requests never reach the handler
  });

  it('is adjustable at run time through /_sim/config (null removes the limit); gemini.embed has its own key', async () => {
    expect((await call(sim, '/_sim/config', { json: { requests_per_minute: { embeddings: 1, 'gemini.embed': 1 } } })).status).toBe(200);
    expect((await embed()).status).toBe(200);
    expect((await embed()).status).toBe(429);
    const gemini = () => authed(sim, '/v1beta/models/gemini-embedding-001:batchEmbedContents', { requests: [{ content: { parts: [{ text: 'x' }] } }] });
    expect((await gemini()).status).toBe(200);
    const limited = await gemini();
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe('');
    await call(sim, '/_sim/config', { json: { requests_per_minute: { embeddings: null, 'gemini.embed': null } } });
    for (let i = 0; i < 5; i += 1) expect((await embed()).status).toBe(200);
    const limits = (await (await call(sim, '/_sim/limits')).json()) as { keys: Record<string, Record<string, unknown>> };
    expect(limits.keys['embeddings']).toMatchObject({ requests_per_minute: null, allowed: 6, limited: 1 });
    await call(sim, '/_sim/config', { json: { requests_per_minute: { embeddings: 3 } } });
  });

  it('does not read the body of a refused request (cheap 429s)', async () => {
    for (let i = 0; i < 3; i += 1) await embed();
    const huge = await authed(sim, '/v1/embeddings', { model: 'text-embedding-3-small', input: Array.from({ length: 2000 }, () => 'z'.repeat(500)) });
    expect(huge.status).toBe(429);
    expect((await embed()).status).toBe(429); // the connection still works after the unread body
  });
});
