import { decodeDataUrl } from '../src';
import { clientFor, closeGateways, KEY, trackCleanup, upstreamRejection } from './helpers/gateway-fixture';
import { routes, sendJson, startServer, type Handler, type LocalServer } from './helpers/local-server';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
afterEach(closeGateways);

async function server(handler: Handler): Promise<LocalServer> {
  const s = await startServer(handler);
  trackCleanup(() => s.close());
  return s;
}

const sendPng: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
  res.end(PNG);
};

describe('download', () => {
  it('decodes data: URLs locally (base64 and percent-encoded)', async () => {
    const gateway = await server(sendPng);
    const client = clientFor(gateway);
    const b64 = await client.download(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(b64).toEqual({ contentType: 'image/png', bytes: PNG });
    expect(decodeDataUrl('data:,Hello%2C%20World%21')).toEqual({ contentType: 'text/plain;charset=US-ASCII', bytes: Buffer.from('Hello, World!') });
    expect((await upstreamRejection(client.download(`data:image/png;base64,${'A'.repeat(4000)}`, { maxBytes: 100 }))).kind).toBe('rejected');
    expect(gateway.requests).toHaveLength(0);
  });

  it('sends the key to the gateway origin and never to a foreign host, across redirects', async () => {
    const cdn = await server(routes({ 'GET /files/cat.png': sendPng }));
    const gateway = await server(
      routes({
        'GET /v1/videos/task_1/content': (_req, res) => {
          res.writeHead(302, { location: '/v1/redirected' });
          res.end();
        },
        'GET /v1/redirected': (_req, res) => {
          res.writeHead(302, { location: `${cdn.origin}/files/cat.png?sig=abc` });
          res.end();
        },
      }),
    );
    const seen: string[] = [];
    const client = clientFor(gateway, { assertUrlAllowed: async (url) => void seen.push(url.href) });
    const result = await client.download(`${gateway.origin}/v1/videos/task_1/content`);
    expect(result.contentType).toBe('image/png');
    expect(result.bytes).toEqual(PNG);
    expect(result.url).toBe(`${cdn.origin}/files/cat.png?sig=abc`);
    expect(gateway.requests.map((r) => r.headers['authorization'])).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.headers['authorization']).toBeUndefined();
    expect(seen).toEqual([`${gateway.origin}/v1/videos/task_1/content`, `${gateway.origin}/v1/redirected`, `${cdn.origin}/files/cat.png?sig=abc`]);
  });

  it('a foreign URL gets no key even on the first hop', async () => {
    const cdn = await server(sendPng);
    const gateway = await server(sendPng);
    const client = clientFor(gateway);
    await client.download(`${cdn.origin}/x.png`);
    expect(cdn.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('the URL guard runs before every hop; a refusal stops the download', async () => {
    const internal = await server(sendPng);
    const cdn = await server((_req, res) => {
      res.writeHead(301, { location: `${internal.origin}/metadata` });
      res.end();
    });
    const gateway = await server(sendPng);
    const client = clientFor(gateway, {
      assertUrlAllowed: async (url) => {
        if (url.origin === internal.origin) throw new Error('private address');
      },
    });
    const err = await upstreamRejection(client.download(`${cdn.origin}/a.png`));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/not allowed/);
    expect(internal.requests).toHaveLength(0);
    // A per-call guard replaces the client default.
    await client.download(`${cdn.origin}/a.png`, { assertUrlAllowed: async () => undefined });
    expect(internal.requests).toHaveLength(1);
  });

  it.each([403, 404, 410])('an expired URL (%i) is not_found with a clear message', async (status) => {
    const cdn = await server((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code></Error>');
    });
    const client = clientFor(await server(sendPng));
    const err = await upstreamRejection(client.download(`${cdn.origin}/private/x.png?se=1&sig=2`));
    expect(err.kind).toBe('not_found');
    expect(err.httpStatus).toBe(status);
    expect(err.message).toBe(`result URL expired or no longer available (HTTP ${status} from ${new URL(cdn.origin).host})`);
    expect(err.message).not.toContain('sig=');
  });

  it('a 5xx is retryable, too many redirects and oversized bodies are rejected', async () => {
    let hops = 0;
    const cdn = await server(
      routes({
        'GET /boom': (_req, res) => sendJson(res, 502, { error: { message: 'Upstream service returned status 500', type: 'server_error' } }),
        'GET /loop': (_req, res) => {
          hops += 1;
          res.writeHead(302, { location: '/loop' });
          res.end();
        },
        'GET /big': (_req, res) => {
          res.writeHead(200, { 'content-type': 'video/mp4' });
          for (let i = 0; i < 20; i += 1) res.write(Buffer.alloc(1024));
          res.end();
        },
      }),
    );
    const client = clientFor(await server(sendPng));
    expect((await upstreamRejection(client.download(`${cdn.origin}/boom`))).kind).toBe('retryable');
    const loop = await upstreamRejection(client.download(`${cdn.origin}/loop`));
    expect(loop.kind).toBe('rejected');
    expect(hops).toBe(6);
    const big = await upstreamRejection(client.download(`${cdn.origin}/big`, { maxBytes: 4096 }));
    expect(big.kind).toBe('rejected');
    expect(big.message).toMatch(/exceeds the limit of 4096 bytes/);
  });

  it('a download that hangs hits its timeout; unsupported schemes are rejected', async () => {
    const cdn = await server(() => undefined);
    const client = clientFor(await server(sendPng));
    const err = await upstreamRejection(client.download(`${cdn.origin}/slow.mp4`, { timeoutMs: 150 }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/timeout/);
    expect((await upstreamRejection(client.download('ftp://example.com/a.png'))).kind).toBe('rejected');
    expect((await upstreamRejection(client.download('not a url'))).kind).toBe('rejected');
  });
});
