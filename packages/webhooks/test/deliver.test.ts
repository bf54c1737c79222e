import { Webhook } from 'standardwebhooks';
import {
  classifyAttempt,
  generateWebhookSecret,
  newWebhookId,
  sendWebhook,
  unixSeconds,
  webhookHeaders,
  type SendResult,
} from '../src';
import { closedPort, startReceiver, type Receiver } from './helpers/receiver';

describe('sendWebhook', () => {
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>): Promise<Receiver> => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('POSTs the signed body, which the receiver verifies with standardwebhooks', async () => {
    const r = await receiver((_req, res) => res.writeHead(204).end());
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'job_1' } });
    const headers = webhookHeaders({ secrets: [secret], webhookId: newWebhookId(), timestamp: unixSeconds(), body });

    const result = await sendWebhook({ url: `${r.origin}/hooks`, headers, body });

    expect(result).toEqual({ statusCode: 204, durationMs: expect.any(Number), error: null, responseBody: '' });
    expect(classifyAttempt(result)).toBe('delivered');
    const [received] = r.requests;
    expect(received).toMatchObject({ method: 'POST', path: '/hooks', body });
    expect(received?.headers['content-type']).toBe('application/json');
    expect(new Webhook(secret).verify(received?.body ?? '', received?.headers ?? {})).toEqual(JSON.parse(body));
  });

  it('keeps the answer body, up to the cap', async () => {
    const r = await receiver((req, res) => {
      if (req.path === '/big') return res.writeHead(200).end('x'.repeat(100_000));
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal\u0000 error');
    });
    const big = await sendWebhook({ url: `${r.origin}/big`, headers: {}, body: '{}' });
    expect(big.statusCode).toBe(200);
    expect(big.responseBody).toBe('x'.repeat(4096));

    const small = await sendWebhook({ url: `${r.origin}/big`, headers: {}, body: '{}', maxResponseBytes: 10 });
    expect(small.responseBody).toBe('x'.repeat(10));

    const failed = await sendWebhook({ url: `${r.origin}/fail`, headers: {}, body: '{}' });
    expect(failed).toMatchObject({ statusCode: 500, error: null, responseBody: 'internal error' });
    expect(classifyAttempt(failed)).toBe('retry');
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const r = await receiver((req, res) => {
      if (req.path === '/moved') return res.writeHead(302, { location: '/target' }).end();
      res.writeHead(200).end('target');
    });
    const result = await sendWebhook({ url: `${r.origin}/moved`, headers: {}, body: '{}' });
    expect(result.statusCode).toBe(302);
    expect(classifyAttempt(result)).toBe('retry');
    expect(r.requests.map((req) => req.path)).toEqual(['/moved']);
  });

  it('reports 410 as gone', async () => {
    const r = await receiver((_req, res) => res.writeHead(410).end('gone'));
    const result = await sendWebhook({ url: r.origin, headers: {}, body: '{}' });
    expect(result.statusCode).toBe(410);
    expect(classifyAttempt(result)).toBe('gone');
  });

  it('turns a receiver that never answers into a timeout error', async () => {
    const r = await receiver(() => {
      /* never answers */
    });
    const result = await sendWebhook({ url: r.origin, headers: {}, body: '{}', timeoutMs: 200 });
    expect(result).toMatchObject({ statusCode: null, responseBody: null, error: 'timeout: no complete answer within 200 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    expect(result.durationMs).toBeLessThan(5000);
    expect(classifyAttempt(result)).toBe('retry');
    expect(r.requests).toHaveLength(1);
  });

  it('turns a refused connection, a reset and a bad URL into errors, never a throw', async () => {
    const refused = await sendWebhook({ url: `http://127.0.0.1:${await closedPort()}/`, headers: {}, body: '{}' });
    expect(refused).toMatchObject({ statusCode: null, responseBody: null });
    expect(refused.error).toMatch(/ECONNREFUSED/);

    const r = await receiver((_req, res) => res.socket?.destroy());
    const reset = await sendWebhook({ url: r.origin, headers: {}, body: '{}' });
    expect(reset.statusCode).toBeNull();
    expect(reset.error).toEqual(expect.any(String));

    const bad = await sendWebhook({ url: 'not a url', headers: {}, body: '{}' });
    expect(bad.statusCode).toBeNull();
    expect(bad.error).toEqual(expect.any(String));
  });
});

describe('classifyAttempt', () => {
  const at = (statusCode: number | null): Pick<SendResult, 'statusCode'> => ({ statusCode });

  it('2xx delivered, 410 gone, everything else retried', () => {
    expect([200, 201, 202, 204, 299].map((c) => classifyAttempt(at(c)))).toEqual(Array(5).fill('delivered'));
    expect(classifyAttempt(at(410))).toBe('gone');
    expect([null, 100, 301, 304, 400, 401, 404, 408, 429, 500, 503].map((c) => classifyAttempt(at(c)))).toEqual(Array(11).fill('retry'));
  });
});
