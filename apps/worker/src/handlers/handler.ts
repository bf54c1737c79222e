import type { Job } from '@genqueue/db';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { ArtifactWriter } from '../media/artifact-writer';
import type { MediaResolver } from '../media/media-resolver';
import type { EmbeddingServices } from '../embeddings/embedding-services';

export type HandlerContext = {
  job: Job;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifacts: ArtifactWriter;
  signal: AbortSignal;
  logger: Logger;
  /** chunk storage, rows and queue of `embedding.batch` (absent in processes that run no embedding lane) */
  embeddings?: EmbeddingServices;
};

export type HandlerResult =
  | { output: Record<string, unknown> }
  /** the job waits for work elsewhere (its chunks): it frees its slot and runs again after `delayMs` or when woken */
  | { park: { delayMs: number } };

/** Runs one synchronous job against the gateway and stores its outputs; throws on failure. */
export type JobHandler = (ctx: HandlerContext) => Promise<HandlerResult>;

/** The input as validated at submission (defaults filled in); typed by each handler. */
export function inputOf<T>(job: Job): T {
  return job.input as T;
}
