import type { Server } from 'node:http';
import type { Settings } from '@genqueue/config';
import type { Logger } from 'pino';
import { createApp } from './app';
import { answerClientErrorsAsJson } from './client-errors';
import { buildApiDeps, type ApiDeps } from './deps';

export type RunningApi = { server: Server; url: string; deps: ApiDeps; close(): Promise<void> };

/** Builds the dependencies and listens; `close` stops taking requests, then drops connections. */
export async function startApi(settings: Settings, logger: Logger): Promise<RunningApi> {
  const deps = await buildApiDeps(settings, logger);
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(settings.PORT, settings.HOST, () => resolve(s));
  });
  answerClientErrorsAsJson(server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.PORT;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    deps,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await deps.close();
    },
  };
}
