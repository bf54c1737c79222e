import type { JobType } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { ArtifactWriter } from '../media/artifact-writer';
import type { MediaResolver } from '../media/media-resolver';
import type { EmbeddingServices } from '../embeddings/embedding-services';
import type { TypedJob } from './typed-job';

/** What every synchronous handler is given, whatever its job type. */
export type HandlerServices = {
  job: Job;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifacts: ArtifactWriter;
  signal: AbortSignal;
  logger: Logger;
  /** chunk storage, rows and queue of `embedding.batch` (absent in processes that run no embedding lane) */
  embeddings?: EmbeddingServices;
};

/**
 * The context of a job of type `T`: `input` is its stored input typed by the catalog
 * (`JobInput<T>`). For a union of types it is a union told apart by `type`.
 */
export type HandlerContext<T extends JobType = JobType> = HandlerServices & TypedJob<T>;

export type HandlerResult =
  | { output: Record<string, unknown> }
  /** the job waits for work elsewhere (its chunks): it frees its slot and runs again after `delayMs` or when woken */
  | { park: { delayMs: number } };

/** Runs one synchronous job of type `T` against the gateway and stores its outputs; throws on failure. */
export type JobHandler<T extends JobType> = (ctx: HandlerContext<T>) => Promise<HandlerResult>;

