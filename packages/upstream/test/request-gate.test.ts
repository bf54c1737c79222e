import { createUpstreamClient, gatewayLaneOf, retryAfterMs, UpstreamError, type GateOutcome, type GatewayLane, type RequestGate } from '../src';
import { sendJson, startServer, type LocalServer } from './helpers/local-server';

/** A gate of our own that records what the client told it; `hold` makes it refuse or hold. */
class RecordingGate implements RequestGate {
  readonly acquired: GatewayLane[] = [];
  readonly reports: { lane: GatewayLane; outcome: GateOutcome; retryAfterMs: number | undefined }[] = [];
  refuseAcquire: { waitMs: number; reason: string } | null = null;
  holdAfterReport: { waitMs: number; reason: string } | null = null;
  failAcquire = false;

  async acquire(lane: GatewayLane) {
    if (this.failAcquire) throw new Error('store unreachable');
    this.acquired.push(lane);
    return this.refuseAcquire ? { ok: false as const, ...this.refuseAcquire } : { ok: true as const };
  }

  async report(lane: GatewayLane, outcome: GateOutcome, _nowMs?: number, retryAfter?: number) {
    this.reports.push({ lane, outcome, retryAfterMs: retryAfter });
    return this.holdAfterReport ? { held: true as const, ...this.holdAfterReport } : { held: false as const };
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gatewayWith(gate: RequestGate, handler: Parameters<typeof startServer>[0]): Promise<{ server: LocalServer; client: ReturnType<typeof createUpstreamClient> }> {
  const server = await startServer(handler);
  const client = createUpstreamClient({ baseUrl: server.origin, apiKey: 'sk-test', gate });
  cleanups.push(() => server.close(), () => client.close());
  return { server, client };
}

const imageOk = { created: 1, data: [{ b64_json: Buffer.from('png').toString('base64') }] };

async function rejectionOf(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected a rejection');
}

describe('gatewayLaneOf', () => {
  const base = new URL('http://gw.test/prefix');
  const lane = (method: string, path: string) => gatewayLaneOf(method, new URL(path, 'http://gw.test'), base);

  it.each([
    ['POST', '/prefix/v1/images/generations', 'image'],
    ['POST', '/prefix/v1/images/edits', 'image'],
    ['POST', '/prefix/v1/chat/completions', 'image'],
    ['POST', '/prefix/v1beta/models/gemini-2.5-flash-image:generateContent', 'image'],
    ['POST', '/prefix/v1/videos', 'video_submit'],
    ['GET', '/prefix/v1/videos/video_123', 'video_poll'],
    ['GET', '/prefix/v1/videos/video_123/content', 'video_poll'],
    ['GET', '/prefix/v1/video/generations/task_1', 'video_poll'],
    ['POST', '/prefix/mj/submit/imagine', 'mj_submit'],
    ['POST', '/prefix/mj-fast/submit/action', 'mj_submit'],
    ['POST', '/prefix/mj/task/list-by-condition', 'mj_poll'],
    ['GET', '/prefix/mj/task/123/fetch', 'mj_poll'],
    ['POST', '/prefix/v1/audio/transcriptions', 'audio'],
    ['POST', '/prefix/v1/embeddings', 'embedding'],
    ['POST', '/prefix/v1beta/models/text-embedding-004:batchEmbedContents', 'embedding'],
  ])('%s %s is the %s lane', (method, path, expected) => {
    expect(lane(method, path)).toBe(expected);
  });

  it.each([
    ['GET', '/prefix/v1/models'],
    ['GET', '/prefix/api/usage/token/'],
    ['GET', '/prefix/mj/image/123'],
    ['POST', '/v1/images/generations'],
  ])('%s %s is not paced', (method, path) => {
    expect(lane(method, path)).toBeNull();
  });

  it('never paces another origin', () => {
    expect(gatewayLaneOf('POST', new URL('http://elsewhere.test/prefix/v1/embeddings'), base)).toBeNull();
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('7')).toBe(7_000);
    expect(retryAfterMs(new Date(1_000_000 + 3_000).toUTCString(), 1_000_000)).toBe(3_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('UpstreamHttp with a request gate', () => {
  it('asks the lane before sending and reports an accepted answer', async () => {
    const gate = new RecordingGate();
    const { client } = await gatewayWith(gate, (_req, res) => sendJson(res, 200, imageOk));
    await client.images.generate({ prompt: 'a red fox', model: 'gpt-image-1' });
    expect(gate.acquired).toEqual(['image']);
    expect(gate.reports).toEqual([{ lane: 'image', outcome: 'ok', retryAfterMs: undefined }]);
  });

  it('a held lane keeps the request from leaving and says how long to wait', async () => {
    const gate = new RecordingGate();
    gate.refuseAcquire = { waitMs: 1_500, reason: 'outage' };
    const { server, client } = await gatewayWith(gate, (_req, res) => sendJson(res, 200, imageOk));
    const err = await rejectionOf(client.images.generate({ prompt: 'a red fox', model: 'gpt-image-1' }));
    expect(err.kind).toBe('rate_limited');
    expect(err.laneHold).toEqual({ lane: 'image', waitMs: 1_500, reason: 'outage', sent: false });
    expect(server.requests).toHaveLength(0);
    expect(gate.reports).toHaveLength(0);
  });

  it('reports a 5xx as an outage and marks the error when the lane is held after it', async () => {
    const gate = new RecordingGate();
    gate.holdAfterReport = { waitMs: 5_000, reason: 'outage' };
    const { client } = await gatewayWith(gate, (_req, res) => sendJson(res, 502, '<html>bad gateway</html>'));
    const err = await rejectionOf(client.images.generate({ prompt: 'a red fox', model: 'gpt-image-1' }));
    expect(err.kind).toBe('retryable');
    expect(gate.reports.map((r) => r.outcome)).toEqual(['outage']);
    expect(err.laneHold).toEqual({ lane: 'image', waitMs: 5_000, reason: 'outage', sent: true });
  });

  it('reports a 429 with its Retry-After, and 401/403 as a refused key', async () => {
    const gate = new RecordingGate();
    let status = 429;
    const { client } = await gatewayWith(gate, (_req, res) => {
      if (status === 429) res.setHeader('retry-after', '3');
      sendJson(res, status, { error: { message: 'no', type: 'x', code: status === 403 ? 'insufficient_user_quota' : 'rate_limit' } });
    });
    await rejectionOf(client.embeddings.create({ model: 'text-embedding-3-small', input: ['a'] }));
    status = 403;
    await rejectionOf(client.embeddings.create({ model: 'text-embedding-3-small', input: ['a'] }));
    expect(gate.reports).toEqual([
      { lane: 'embedding', outcome: 'rate_limited', retryAfterMs: 3_000 },
      { lane: 'embedding', outcome: 'refused', retryAfterMs: undefined },
    ]);
  });

  it('a refused input is a working gateway: reported ok', async () => {
    const gate = new RecordingGate();
    const { client } = await gatewayWith(gate, (_req, res) =>
      sendJson(res, 400, { error: { message: 'banned', type: 'invalid_request_error', code: 'content_policy_violation' } }),
    );
    const err = await rejectionOf(client.images.generate({ prompt: 'x', model: 'gpt-image-1' }));
    expect(err.kind).toBe('rejected');
    expect(err.laneHold).toBeUndefined();
    expect(gate.reports.map((r) => r.outcome)).toEqual(['ok']);
  });

  it('no answer at all (connection refused) is an outage', async () => {
    const gate = new RecordingGate();
    const { server, client } = await gatewayWith(gate, (_req, res) => sendJson(res, 200, imageOk));
    await server.close();
    await rejectionOf(client.images.generate({ prompt: 'x', model: 'gpt-image-1' }));
    expect(gate.reports.map((r) => r.outcome)).toEqual(['outage']);
  });

  it('account routes pass without the gate, and an unreachable gate lets requests go', async () => {
    const gate = new RecordingGate();
    const { client } = await gatewayWith(gate, (_req, res) => sendJson(res, 200, imageOk));
    await client.http.request({ method: 'GET', path: '/v1/models' });
    expect(gate.acquired).toEqual([]);
    gate.failAcquire = true;
    await client.images.generate({ prompt: 'x', model: 'gpt-image-1' });
    expect(gate.reports.map((r) => r.outcome)).toEqual(['ok']);
  });

  it("holds the MJ submit lane on the gateway's spent quota (E5 quota_not_enough, HTTP 400) as on a 403", async () => {
    const gate = new RecordingGate();
    const { client } = await gatewayWith(gate, (_req, res) => sendJson(res, 400, { description: 'quota_not_enough ', type: 'upstream_error', code: 4 }));
    gate.holdAfterReport = { waitMs: 2_000, reason: 'refused' };
    const err = await rejectionOf(client.mj.submit('imagine', { prompt: 'a fox' } as never));

    expect(err.kind).toBe('auth');
    expect(gate.reports.map((r) => [r.lane, r.outcome])).toEqual([
      ['mj_submit', 'ok'],
      ['mj_submit', 'refused'],
    ]);
    expect(err.laneHold).toMatchObject({ lane: 'mj_submit', reason: 'refused', sent: true });
  });
});
