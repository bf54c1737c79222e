import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Received = {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Date.now() when the whole body had arrived */
  at: number;
  json: any;
};

/** Decides the answer for one request; `index` counts the requests to the same path, from 0. */
export type Answer = (req: Received, res: ServerResponse, index: number) => void;

/**
 * A local webhook receiver on 127.0.0.1. Each path is its own target with its own answer; waits
 * are event driven (no polling) and have deadlines.
 */
export class Receiver {
  readonly requests: Received[] = [];
  private readonly answers = new Map<string, Answer>();
  private readonly waiters = new Set<() => void>();
  private readonly held: ServerResponse[] = [];
  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly origin: string,
  ) {}

  static async start(): Promise<Receiver> {
    let self: Receiver | null = null;
    const server = createServer((req: IncomingMessage, res) => self!.handle(req, res));
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new Receiver(server, `http://127.0.0.1:${port}`);
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A new target path answered by `answer` (default 200). */
  target(path: string, answer: Answer = (_req, res) => res.end('ok')): string {
    this.answers.set(path, answer);
    return `${this.origin}${path}`;
  }

  on(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Never answers (the sender times out); the responses are ended on close. */
  hold(res: ServerResponse): void {
    this.held.push(res);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // not JSON
      }
      const received: Received = { path: req.url ?? '', headers, body, at: Date.now(), json };
      const index = this.on(received.path).length;
      this.requests.push(received);
      const answer = this.answers.get(received.path) ?? ((_r: Received, out: ServerResponse) => out.writeHead(404).end());
      answer(received, res, index);
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Resolves once `accept` holds for the requests so far. */
  waitFor(what: string, accept: (requests: Received[]) => boolean, timeoutMs = 30_000): Promise<Received[]> {
    if (accept(this.requests)) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!accept(this.requests)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.requests);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`receiver: ${what} not seen within ${timeoutMs} ms; got ${this.requests.length} requests: ${this.requests.map((r) => r.path).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  waitForCount(path: string, count: number, timeoutMs?: number): Promise<Received[]> {
    return this.waitFor(`${count} requests to ${path}`, () => this.on(path).length >= count, timeoutMs).then(() => this.on(path));
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Verifies one received webhook with the Standard Webhooks reference library (throws if invalid). */
export function verifyWith(secret: string, received: Received): unknown {
  return new Webhook(secret).verify(received.body, received.headers);
}

export const signaturesOf = (received: Received): string[] => (received.headers['webhook-signature'] ?? '').split(' ').filter(Boolean);
