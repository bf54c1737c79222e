import type { Job } from '@genqueue/db';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { ArtifactWriter } from '../media/artifact-writer';
import type { MediaResolver } from '../media/media-resolver';

export type HandlerContext = {
  job: Job;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifacts: ArtifactWriter;
  signal: AbortSignal;
  logger: Logger;
};

export type HandlerResult = { output: Record<string, unknown> };

/** Runs one synchronous job against the gateway and stores its outputs; throws on failure. */
export type JobHandler = (ctx: HandlerContext) => Promise<HandlerResult>;

/** The input as validated at submission (defaults filled in); typed by each handler. */
export function inputOf<T>(job: Job): T {
  return job.input as T;
}
