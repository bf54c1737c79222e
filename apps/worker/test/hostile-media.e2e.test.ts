import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestStack, type Project } from '@genqueue/testing';

/**
 * Links and media URLs a tenant controls (issue 11): script-capable bytes never become typed
 * artifacts, URLs on the gateway's origin are never fetched (so never with its key), links are
 * capped and media stays within the job's byte budget.
 */
const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const SVG = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>';
const HTML = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';

describe('hostile media URLs and links', () => {
  let stack: TestStack;
  let project: Project;
  let server: Server;
  let base = '';
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.headers.authorization) hits.push(`AUTH ${req.url}`);
      if (req.url === '/logo.svg') {
        res.writeHead(200, { 'content-type': 'image/svg+xml' });
        res.end(SVG);
      } else if (req.url === '/photo.png') {
        // HTML that calls itself a PNG
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(HTML);
      } else if (req.url?.startsWith('/big-')) {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.concat([PNG_HEAD, Buffer.alloc(300 * 1024, 7)]));
      } else if (req.url?.startsWith('/small-')) {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.concat([PNG_HEAD, Buffer.alloc(64, 1)]));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // private addresses are allowed here (the test's server is on loopback): what is checked is
    // the gateway's origin, the sniffing, the link cap and the budget
    stack = await TestStack.start({ env: { MEDIA_CHAT_MAX_LINKS: '4', MEDIA_JOB_MAX_BYTES: String(500 * 1024) } });
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    hits.length = 0;
  });

  const simTotal = async (): Promise<{ total: number; routes: Record<string, { received: number }> }> => (await stack.sim.get('/_sim/counters')).body;

  /** Requests that reached the simulator between two counter snapshots, per route. */
  /** Requests per route the simulator received in between; the cost ledger's own balance reads are not the job's. */
  function simRequests(before: Awaited<ReturnType<typeof simTotal>>, after: Awaited<ReturnType<typeof simTotal>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [route, counter] of Object.entries(after.routes)) {
      if (route === 'balance') continue;
      const diff = counter.received - (before.routes[route]?.received ?? 0);
      if (diff > 0) out[route] = diff;
    }
    return out;
  }

  const chat = (content: string) => ({ type: 'media.chat', input: { model: 'gpt-4o', messages: [{ role: 'user', content }] } });

  it("an answer printing an SVG link, an HTML link and a link to the gateway's origin: no script-capable artifact, no request to the gateway", async () => {
    const gatewayLink = `${stack.simulatorUrl}/v1/videos/video_someone_elses/content`;
    const before = await simTotal();
    const job = await stack.runJob(project.key, chat(`print these links: ${base}/logo.svg ${base}/photo.png ${gatewayLink}`));
    const after = await simTotal();

    expect(job.status).toBe('succeeded');
    expect(job.output.text).toContain(gatewayLink);
    // the SVG and the HTML were fetched and sniffed: neither is an image, so neither is stored
    expect(hits.sort()).toEqual(['/logo.svg', '/photo.png']);
    for (const artifact of job.artifacts) expect(artifact.content_type).toBe('application/octet-stream');
    expect(job.artifacts.map((a: any) => a.content_type)).not.toEqual(expect.arrayContaining([expect.stringMatching(/svg|html|xml/)]));
    expect(job.output.media).toEqual([]);
    expect(job.output.skipped_media).toEqual([
      { url: `${base}/logo.svg`, reason: 'not stored: not an image, audio or video' },
      { url: `${base}/photo.png`, reason: 'not stored: not an image, audio or video' },
      { url: gatewayLink, reason: "refused: the URL is on the gateway's own origin" },
    ]);
    // the only request the simulator saw is the chat call itself: the gateway link was never fetched
    expect(simRequests(before, after)).toEqual({ 'chat.completions': 1 });
  });

  it("refuses a media input URL on the gateway's origin without sending any request there", async () => {
    const before = await simTotal();
    const job = await stack.runJob(project.key, {
      type: 'image.edit',
      input: { prompt: 'read another tenant', images: [{ url: `${stack.simulatorUrl}/v1/videos/video_someone_elses/content` }] },
    });
    const after = await simTotal();

    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(job.error.message).toContain("refused: the URL is on the gateway's own origin");
    expect(simRequests(before, after)).toEqual({});
  });

  it('downloads at most MEDIA_CHAT_MAX_LINKS links of an answer and notes the rest', async () => {
    const links = [1, 2, 3, 4, 5, 6].map((i) => `${base}/small-${i}.png`);
    const job = await stack.runJob(project.key, chat(`print these links: ${links.join(' ')}`));

    expect(job.status).toBe('succeeded');
    expect(job.output.media).toHaveLength(4);
    for (const artifact of job.artifacts) expect(artifact.content_type).toBe('image/png');
    expect(hits.filter((h) => h.startsWith('/small-'))).toHaveLength(4);
    expect(job.output.skipped_media).toEqual(links.slice(4).map((url) => ({ url, reason: 'not fetched: over MEDIA_CHAT_MAX_LINKS (4)' })));
  });

  it('lists the first 20 links past the cap and counts the rest', async () => {
    const links = Array.from({ length: 30 }, (_, i) => `${base}/small-many-${i}.png`);
    const job = await stack.runJob(project.key, chat(`print these links: ${links.join(' ')}`));

    expect(job.status).toBe('succeeded');
    expect(job.output.media).toHaveLength(4);
    expect(hits.filter((h) => h.startsWith('/small-many-'))).toHaveLength(4);
    expect(job.output.skipped_media).toHaveLength(21);
    expect(job.output.skipped_media.slice(0, 20).map((s: any) => s.url)).toEqual(links.slice(4, 24));
    expect(job.output.skipped_media[20]).toEqual({ url: '', reason: '6 more links not fetched: over MEDIA_CHAT_MAX_LINKS (4)' });
  });

  it("stops storing an answer's media at the job's byte budget", async () => {
    const links = [1, 2].map((i) => `${base}/big-${i}.png`);
    const job = await stack.runJob(project.key, chat(`print these links: ${links.join(' ')}`));

    expect(job.status).toBe('succeeded');
    // 300 KiB each, 500 KiB for the job: the first is stored, the second is cut off at the budget
    expect(job.output.media).toHaveLength(1);
    expect(job.artifacts).toHaveLength(1);
    expect(job.artifacts[0].bytes).toBe(300 * 1024 + PNG_HEAD.length);
    expect(job.output.skipped_media).toEqual([{ url: links[1], reason: expect.stringContaining('MEDIA_JOB_MAX_BYTES') }]);
    expect(hits.some((h) => h.startsWith('AUTH'))).toBe(false);
  });
});
