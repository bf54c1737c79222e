import type { JobError } from '@genqueue/core';
import type { ArtifactsRepository, Job, JobAttemptsRepository, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { ArtifactWriter } from './media/artifact-writer';
import type { MediaResolver } from './media/media-resolver';

/*
 * Types the job runner and the task runner share. A leaf: it imports neither runner, so the two
 * runners do not import each other (the job runner sees the task runner through TaskRunnerPort).
 */

/** What a runner reads, records and announces a job with, and stores its outputs through (JobRunner, TaskRunner). */
export type JobServices = {
  jobs: JobsRepository;
  /** one row per failed run (retried, rate limited, failed), for the dashboard's job page */
  attempts: JobAttemptsRepository;
  artifacts: ArtifactsRepository;
  /** needs a subscriber connection: a cancel from the API reaches the running job through it (JobRunner listens) */
  events: JobEventBus;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifactWriter: ArtifactWriter;
  logger: Logger;
};

/** How a run ended, for the BullMQ processor to act on. */
export type RunOutcome =
  | { kind: 'done' }
  | { kind: 'retry'; error: JobError }
  /** the lane pauses (`pauseMs`, else RATE_LIMIT_PAUSE_MS) and the job waits it out, no attempt used */
  | { kind: 'rate_limited'; error: JobError; pauseMs?: number }
  /** the job waits for work elsewhere (embedding chunks); it stays running and runs again after `delayMs` or when woken */
  | { kind: 'park'; delayMs: number }
  /** the process is shutting down: the job goes back to the queue untouched, no attempt used */
  | { kind: 'interrupted' }
  /** the job's project already runs its `max_running_jobs`: the job stays queued (no event, no attempt) and is offered again */
  | { kind: 'project_at_limit'; projectId: string; maxRunningJobs: number };

/** What the job runner needs of the task runner (gateway task kinds: video, mj). */
export type TaskRunnerPort = {
  handles(type: string): boolean;
  /** `job` is running: the job runner starts every job (queue TTL, project limit) before it hands it over */
  run(job: Job, ctx: { isLastAttempt: boolean; signal: AbortSignal }): Promise<RunOutcome>;
};
