import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUpstreamClient, UpstreamError, UpstreamHttp, type UpstreamClient } from '../src';
import { REQUEST_ID, routes, sendJson, startServer, type LocalServer } from './helpers/local-server';

const KEY = 'sk-test-key';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(handler: Parameters<typeof startServer>[0], clientOptions: Partial<Parameters<typeof createUpstreamClient>[0]> = {}): Promise<{ server: LocalServer; client: UpstreamClient }> {
  const server = await startServer(handler);
  const client = createUpstreamClient({ baseUrl: server.origin, apiKey: KEY, ...clientOptions });
  cleanups.push(() => server.close(), () => client.close());
  return { server, client };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function upstreamRejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('UpstreamHttp against a local server', () => {
  it('sends the Bearer key and user agent, keeps a base path prefix, returns status, headers and body', async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, { ok: true }));
    const http = new UpstreamHttp({ baseUrl: `${server.origin}/prefix/`, apiKey: KEY, userAgent: 'gq-test' });
    cleanups.push(() => server.close(), () => http.close());
    const res = await http.request({ method: 'GET', path: '/v1/models', query: { a: 1, b: undefined } });
    expect(res.status).toBe(200);
    expect(res.requestId).toBe(REQUEST_ID);
    expect(res.headers['x-new-api-version']).toBe('v0.9.0');
    expect(JSON.parse(res.bodyText())).toEqual({ ok: true });
    expect(server.requests[0]?.path).toBe('/prefix/v1/models?a=1');
    expect(server.requests[0]?.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(server.requests[0]?.headers['user-agent']).toBe('gq-test');
  });

  it('sends no Authorization header without a key', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { data: [] }), { apiKey: undefined });
    const bare = createUpstreamClient({ baseUrl: server.origin });
    cleanups.push(() => bare.close());
    await bare.account.listModels();
    expect(server.requests[0]?.headers['authorization']).toBeUndefined();
    await client.account.listModels();
  });

  it('a 429 with an empty body is rate_limited', async () => {
    const { client } = await gateway((_req, res) => {
      res.writeHead(429, { 'x-oneapi-request-id': REQUEST_ID });
      res.end();
    });
    const err = await upstreamRejection(client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }));
    expect(err.kind).toBe('rate_limited');
    expect(err.httpStatus).toBe(429);
    expect(err.requestId).toBe(REQUEST_ID);
  });

  it('an HTML 502 page is retryable', async () => {
    const { client } = await gateway((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>');
    });
    const err = await upstreamRejection(client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toBe('upstream answered an HTML error page (HTTP 502)');
  });

  it('an HTML page on HTTP 200 where JSON was expected is retryable', async () => {
    const { client } = await gateway((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>captive portal</body></html>');
    });
    const err = await upstreamRejection(client.account.listModels());
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/HTML page instead of JSON/);
  });

  it('a connection reset is retryable and names the network error', async () => {
    const { client } = await gateway((req) => {
      req.socket.resetAndDestroy();
    });
    const err = await upstreamRejection(client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/network error/);
    expect(err.message).toContain('POST /v1/images/generations');
  });

  it('a refused connection is retryable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = createUpstreamClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY });
    cleanups.push(() => client.close());
    const err = await upstreamRejection(client.account.listModels());
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('a server that never answers hits the headers timeout', async () => {
    const { client } = await gateway(() => undefined, { timeouts: { smallMs: 200 } });
    const err = await upstreamRejection(client.account.listModels());
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/timeout/);
  });

  it('names which timeout fired: headers, body idle, or total', async () => {
    const { client } = await gateway((req, res) => {
      if (req.url === '/stall-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
      }
    });
    const headers = await upstreamRejection(client.http.request({ method: 'GET', path: '/hang', headersTimeoutMs: 100, timeoutMs: 10_000 }));
    expect(headers.message).toBe('GET /hang: no response headers within 100 ms (headers timeout)');
    const body = await upstreamRejection(client.http.request({ method: 'GET', path: '/stall-body', bodyTimeoutMs: 100, timeoutMs: 10_000 }));
    expect(body.message).toBe('GET /stall-body: response body stalled for more than 100 ms (body timeout)');
    const total = await upstreamRejection(client.http.request({ method: 'GET', path: '/stall-body', bodyTimeoutMs: 10_000, timeoutMs: 150 }));
    expect(total.message).toBe('GET /stall-body exceeded the total timeout of 150 ms');
    for (const err of [headers, body, total]) expect(err.kind).toBe('retryable');
  });

  it('a per-call timeoutMs bounds a long call', async () => {
    const { client } = await gateway(() => undefined);
    const started = Date.now();
    const err = await upstreamRejection(client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }, { timeoutMs: 150 }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/150 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a body that stalls hits the body timeout', async () => {
    const { client } = await gateway(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":[');
      },
      { timeouts: { smallMs: 200 } },
    );
    const err = await upstreamRejection(client.account.listModels());
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/timeout/);
  });

  it('aborting the signal rejects with the abort reason, not an UpstreamError', async () => {
    const controller = new AbortController();
    const { client } = await gateway(() => controller.abort(new Error('job cancelled')));
    const err = await rejection(client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }, { signal: controller.signal }));
    expect(err).not.toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toBe('job cancelled');
    const again = await rejection(client.account.listModels({ signal: controller.signal }));
    expect((again as Error).message).toBe('job cancelled');
  });

  it('a body over the size cap is rejected, with and without content-length', async () => {
    const { client } = await gateway(
      (req, res) => {
        if (req.url === '/v1/models') return sendJson(res, 200, { data: 'x'.repeat(5_000) });
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 10; i += 1) res.write('x'.repeat(1_000));
        res.end();
      },
      { maxResponseBytes: 2_000 },
    );
    const declared = await upstreamRejection(client.account.listModels());
    expect(declared.kind).toBe('rejected');
    expect(declared.message).toMatch(/exceeds the limit of 2000 bytes/);
    const chunked = await upstreamRejection(client.http.request({ method: 'GET', path: '/chunked' }));
    expect(chunked.kind).toBe('rejected');
  });

  it('follows a same-origin 301 on GET and keeps the key (Gin trailing-slash redirect)', async () => {
    const { server, client } = await gateway(
      routes({
        'GET /api/usage/token': (_req, res) => {
          res.writeHead(301, { location: '/api/usage/token/' });
          res.end('<a href="/api/usage/token/">Moved Permanently</a>.');
        },
        'GET /api/usage/token/': (_req, res) => sendJson(res, 200, { code: true, message: 'ok', data: {} }),
      }),
    );
    const res = await client.http.request({ method: 'GET', path: '/api/usage/token' });
    expect(res.status).toBe(200);
    expect(res.url.pathname).toBe('/api/usage/token/');
    expect(server.requests.map((r) => r.path)).toEqual(['/api/usage/token', '/api/usage/token/']);
    expect(server.requests[1]?.headers['authorization']).toBe(`Bearer ${KEY}`);
  });

  it('requestOk throws the classified error', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 503, { error: { message: 'No available channel for model x under group default (distributor)', type: 'new_api_error', code: 'model_not_found' } }),
    );
    const err = await upstreamRejection(client.http.requestOk({ method: 'GET', path: '/v1/models' }));
    expect(err.kind).toBe('rejected');
    expect(err.upstreamCode).toBe('model_not_found');
  });
});
