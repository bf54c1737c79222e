import type { JobError, JobType } from '@genqueue/core';
import type { Job } from '@genqueue/db';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { TaskCosts } from '../costs/cost-recorder';
import type { ArtifactWriter } from '../media/artifact-writer';
import type { MediaResolver } from '../media/media-resolver';
import type { TypedJob } from '../handlers/typed-job';

/** What every task kind is given, whatever its job type. */
export type TaskKindServices = {
  job: Job;
  upstream: UpstreamClient;
  media: MediaResolver;
  artifacts: ArtifactWriter;
  /** reads another job (the parent of `mj.action` / `mj.modal`) */
  findJob(id: string): Promise<Job | null>;
  /** shutdown: polls and downloads stop; a submit is never aborted (its answer would be lost) */
  signal: AbortSignal;
  logger: Logger;
  /** the cost ledger: charges at submit, refunds of failed tasks (absent: nothing recorded) */
  costs?: TaskCosts;
};

/** The context of a job of type `T`: `input` is its stored input typed by the catalog; a union for several types. */
export type TaskContext<T extends JobType = JobType> = TaskKindServices & TypedJob<T>;

export type SubmitAnswer =
  | {
      kind: 'accepted';
      taskId: string;
      upstreamStatus: string;
      progress?: number;
      /** shown while the task waits for the client (MJ MODAL) */
      waitingNote?: Record<string, unknown>;
    }
  /** the gateway created nothing and asks to come back later (MJ code 23) */
  | { kind: 'retry_later'; upstreamStatus: string; message: string };

/** One poll's view of the task, in our terms. */
export type TaskSnapshot = {
  state: 'pending' | 'waiting' | 'succeeded' | 'failed' | 'missing';
  rawStatus: string;
  progress: number;
  /** set when `failed` */
  error?: JobError;
  /** what `waiting` waits for (MJ MODAL: an `mj.modal` job) */
  waitingNote?: Record<string, unknown>;
  /** the kind's own parsed task, handed back to `collect` */
  data?: unknown;
};

/**
 * A gateway task family (video, MJ): how to submit, poll and collect one job's task. `T` is the job
 * types it runs, `Prepared` what `prepare` hands to `submit`. Methods: a kind of several types
 * (MJ) serves each of them, and the runner hands `submit` only what this kind's `prepare` returned.
 */
export interface TaskKind<T extends JobType = JobType, Prepared = unknown> {
  /** everything that may fail on our side (media, parent lookups) runs before the submit window opens */
  prepare(ctx: TaskContext<T>): Promise<Prepared>;
  /** exactly one gateway submit; throws UpstreamError / JobFailure */
  submit(ctx: TaskContext<T>, prepared: Prepared): Promise<SubmitAnswer>;
  poll(ctx: TaskContext<T>, taskId: string): Promise<TaskSnapshot>;
  /** downloads the result into storage and returns the job's output */
  collect(ctx: TaskContext<T>, taskId: string, snapshot: TaskSnapshot): Promise<Record<string, unknown>>;
  /** the job ended (any way): release per-task resources such as poll registrations */
  release?(taskId: string): void;
}
