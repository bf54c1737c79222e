import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUpstreamClient, UpstreamError, type UpstreamClient } from '@genqueue/upstream';
import { createGuardedDispatcher, type HostLookup } from '@genqueue/webhooks';

/**
 * How the worker fetches URLs: off the gateway's origin through the connect-time SSRF guard (the
 * address checked is the one connected to), tenants' URLs never on the gateway's origin, the key
 * only ever to the gateway.
 */
type Local = { origin: string; port: number; requests: IncomingMessage[]; close: () => Promise<void> };

async function local(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<Local> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { origin: `http://127.0.0.1:${port}`, port, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const PNG = Buffer.from('89504e470d0a1a0a0102', 'hex');
const png = (_req: IncomingMessage, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'image/png' });
  res.end(PNG);
};

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('worker media fetches', () => {
  const servers: Local[] = [];
  const clients: UpstreamClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const serve = async (answer: Parameters<typeof local>[0]): Promise<Local> => {
    const s = await local(answer);
    servers.push(s);
    return s;
  };
  const client = (gateway: Local, options: { allowPrivate: boolean; lookup?: HostLookup }): UpstreamClient => {
    const c = createUpstreamClient({ baseUrl: gateway.origin, apiKey: 'sk-the-shared-key', publicDispatcher: createGuardedDispatcher(options) });
    clients.push(c);
    return c;
  };

  it('refuses at connect time a name that resolves to a private address, telling only that', async () => {
    const gateway = await serve(png);
    const inside = await serve(png);
    let lookups = 0;
    // what a rebinding DNS does: a public answer first, the inside one when it matters
    const rebinding: HostLookup = async () => [{ address: (lookups += 1) === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    await rebinding('warm.example.test'); // the "check" an earlier guard would have made
    const c = client(gateway, { allowPrivate: false, lookup: rebinding });
    const err = await rejection(c.download(`http://cdn.example.test:${inside.port}/a.png`, { source: 'tenant' }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toBe('refused: non-public address');
    expect(inside.requests).toHaveLength(0);
    // literal private addresses too, and the cloud metadata service
    expect((await rejection(c.download(`${inside.origin}/a.png`, { source: 'tenant' }))).message).toBe('refused: non-public address');
    expect((await rejection(c.download('http://169.254.169.254/latest/meta-data', { source: 'tenant' }))).message).toBe('refused: non-public address');
    expect(inside.requests).toHaveLength(0);
  });

  it("refuses a tenant's URL on the gateway's origin, on the first hop or after a redirect", async () => {
    const gateway = await serve(png);
    const bouncer = await serve((_req, res) => {
      res.writeHead(302, { location: `${gateway.origin}/v1/videos/video_other/content` });
      res.end();
    });
    const c = client(gateway, { allowPrivate: true });
    for (const url of [`${gateway.origin}/v1/videos/video_other/content`, `${bouncer.origin}/x.png`]) {
      const err = await rejection(c.download(url, { source: 'tenant' }));
      expect(err.message).toBe("refused: the URL is on the gateway's own origin");
    }
    expect(gateway.requests).toHaveLength(0);
    expect(bouncer.requests).toHaveLength(1);
  });

  it("sends the key to the gateway's origin for its own results only; never off it", async () => {
    const cdn = await serve(png);
    const gateway = await serve((req, res) => {
      res.writeHead(302, { location: `${cdn.origin}/result.png` });
      res.end();
    });
    const c = client(gateway, { allowPrivate: true });
    const result = await c.download(`${gateway.origin}/v1/videos/video_ours/content`);
    expect(result.bytes).toEqual(PNG);
    expect(gateway.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer sk-the-shared-key']);
    expect(cdn.requests.map((r) => r.headers['authorization'])).toEqual([undefined]);
    const tenant = await c.downloadStream(`${cdn.origin}/again.png`, { source: 'tenant' });
    const chunks: Buffer[] = [];
    for await (const chunk of tenant.body) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(PNG);
    expect(cdn.requests.map((r) => r.headers['authorization'])).toEqual([undefined, undefined]);
  });

  it('stops a body over its byte cap while it streams', async () => {
    const gateway = await serve(png);
    const big = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      res.end(Buffer.alloc(64 * 1024));
    });
    const c = client(gateway, { allowPrivate: true });
    const err = await rejection(c.download(`${big.origin}/big.png`, { source: 'tenant', maxBytes: 1024 }));
    expect(err.kind).toBe('rejected');
    expect(err.message).toMatch(/larger than the limit of 1024 bytes/);
  });
});
