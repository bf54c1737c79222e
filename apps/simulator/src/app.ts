import express, { type Express, type Router } from 'express';
import { errorHandler, notFound } from './middleware/error-handler';
import { requestContext } from './middleware/request-context';
import { accountRoutes } from './routes/account.routes';
import { audioRoutes } from './routes/audio.routes';
import { blobsRoutes } from './routes/blobs.routes';
import { chatRoutes } from './routes/chat.routes';
import { controlRoutes } from './routes/control.routes';
import { embeddingsRoutes } from './routes/embeddings.routes';
import { geminiRoutes } from './routes/gemini.routes';
import { imagesRoutes } from './routes/images.routes';
import { meteringRoutes } from './routes/metering.routes';
import { modelsRoutes } from './routes/models.routes';
import { mjRoutes } from './routes/mj.routes';
import { tasksControlRoutes } from './routes/tasks-control.routes';
import { videosRoutes } from './routes/videos.routes';
import type { SimulatorState } from './state';

/** One router factory per API family; new families (video, mj, audio, embeddings) join this list. */
const FAMILY_ROUTES: ReadonlyArray<(state: SimulatorState) => Router> = [
  modelsRoutes,
  accountRoutes,
  imagesRoutes,
  geminiRoutes,
  chatRoutes,
  blobsRoutes,
  audioRoutes,
  embeddingsRoutes,
  meteringRoutes,
  videosRoutes,
  mjRoutes,
  tasksControlRoutes,
];

export function createSimulatorApp(state: SimulatorState): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(state));
  app.use(controlRoutes(state));
  for (const routes of FAMILY_ROUTES) app.use(routes(state));
  app.use(notFound(state));
  app.use(errorHandler());
  return app;
}
