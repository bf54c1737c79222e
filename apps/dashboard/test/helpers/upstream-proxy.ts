import { createServer, request, type Server } from 'node:http';

/**
 * An upstream for the stack that passes every request through to the simulator, except that a
 * video's content (`GET /v1/videos/{id}/content`) is answered with `videoBytes`.
 *
 * Why: the simulator's mp4 is an `ftyp` + `mdat` stand-in without a `moov` box, which no browser
 * can decode; "play a video artifact" needs a clip Chromium can play. The clip is recorded by the
 * same Chromium (see recordWebm), so nothing is downloaded.
 */
export class UpstreamProxy {
  target = '';
  videoBytes: Buffer | null = null;
  videoContentRequests = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<UpstreamProxy> {
    let self: UpstreamProxy | null = null;
    const server = createServer((req, res) => {
      const proxy = self!;
      const isVideoContent = req.method === 'GET' && /^\/v1\/videos\/[^/]+\/content$/.test((req.url ?? '').split('?')[0] ?? '');
      const target = new URL(req.url ?? '/', proxy.target);
      const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        if (isVideoContent && answer.statusCode === 200 && proxy.videoBytes) {
          proxy.videoContentRequests += 1;
          answer.resume();
          res.writeHead(200, { 'content-type': 'video/webm', 'content-length': String(proxy.videoBytes.length) }).end(proxy.videoBytes);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    self = new UpstreamProxy(server, `http://127.0.0.1:${address.port}`);
    return self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
