import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0, recording every request it receives. */
export async function startServer(handler: Handler): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const REQUEST_ID = '202606240035378086644568268d9d6AsuclAOv';

/** Sends JSON with the gateway's usual headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'x-oneapi-request-id': REQUEST_ID,
    'x-new-api-version': 'v0.9.0',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Builds a routing handler from `"METHOD /path"` keys; unknown routes get the gateway's E10 404. */
export function routes(table: Record<string, Handler>): Handler {
  return (req, res, body) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const route = table[`${req.method ?? ''} ${path}`];
    if (route) return route(req, res, body);
    sendJson(res, 404, {
      error: { message: `Invalid URL (${req.method ?? ''} ${path})`, type: 'invalid_request_error', param: '', code: '' },
    });
  };
}
