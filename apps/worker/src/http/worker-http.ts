import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsAccess } from '@genqueue/db';
import type { Logger } from 'pino';

export type WorkerHttpDeps = {
  port: number;
  host: string;
  /** who may read /metrics (checkMetricsAccess: the admin key or METRICS_TOKEN) */
  authorize: (authorization: string | undefined) => Promise<MetricsAccess>;
  metrics: { contentType: string; render(): Promise<string> };
  /** reachability of the worker's dependencies, each answering within its own short timeout */
  checks: { postgres: () => Promise<boolean>; redis: () => Promise<boolean> };
  logger: Logger;
};

export type WorkerHttp = { port: number; close(): Promise<void> };

const ERRORS: Record<Exclude<MetricsAccess, 'granted'>, { status: number; message: string }> = {
  unauthorized: { status: 401, message: 'Send the admin key or METRICS_TOKEN as Authorization: Bearer <key>' },
  forbidden: { status: 403, message: 'This route needs the admin key or METRICS_TOKEN' },
};

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The worker's own small HTTP port: `/healthz` (the process is up), `/readyz` (Postgres and Redis
 * answer; 503 otherwise, as the API's) and `/metrics` (Prometheus text; the same access rule as
 * the API's). Plain node:http: three GET routes need no framework.
 */
export async function startWorkerHttp(deps: WorkerHttpDeps): Promise<WorkerHttp> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return json(res, 405, { error: { code: 'method_not_allowed', message: 'Only GET' } }, { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok' });
      case '/readyz': {
        const [postgres, redis] = await Promise.all([deps.checks.postgres(), deps.checks.redis()]);
        const ready = postgres && redis;
        return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } }, ready ? {} : { 'retry-after': '5' });
      }
      case '/metrics': {
        const access = await deps.authorize(req.headers.authorization);
        if (access !== 'granted') {
          const { status, message } = ERRORS[access];
          return json(res, status, { error: { code: access, message } }, access === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {});
        }
        const text = await deps.metrics.render();
        res.writeHead(200, { 'content-type': deps.metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      default:
        return json(res, 404, { error: { code: 'not_found', message: `No route ${path}` } });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Postgres down while checking a key, or a collector that threw
      deps.logger.warn({ err, path: req.url?.split('?')[0] }, 'worker.http_error');
      if (!res.headersSent) json(res, 503, { error: { code: 'unavailable', message: 'Try again shortly' } }, { 'retry-after': '5' });
      else res.destroy();
    });
  });
  // a scraper or probe that keeps a connection idle must not keep the process from exiting
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`WORKER_HTTP_PORT ${deps.port} is in use: set WORKER_HTTP_PORT to a free port for each worker on this host, or 0 to run without it`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(deps.port, deps.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
