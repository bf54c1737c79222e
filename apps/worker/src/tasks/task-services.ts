import type { Settings } from '@genqueue/config';
import type { ArtifactsRepository, JobAttemptsRepository, JobsRepository } from '@genqueue/db';
import type { JobEventBus, JobQueues } from '@genqueue/queue';
import type { UpstreamClient } from '@genqueue/upstream';
import type { Logger } from 'pino';
import type { ArtifactWriter } from '../media/artifact-writer';
import type { MediaResolver } from '../media/media-resolver';
import { createTaskKinds } from '../handlers';
import { MjPollCoordinator } from './mj-poll-coordinator';
import { TaskRunner } from './task-runner';

export type TaskServicesDeps = {
  settings: Settings;
  jobs: JobsRepository;
  attempts: JobAttemptsRepository;
  artifacts: ArtifactsRepository;
  events: JobEventBus;
  upstream: UpstreamClient;
  queues: JobQueues;
  media: MediaResolver;
  artifactWriter: ArtifactWriter;
  logger: Logger;
};

export type TaskServices = { runner: TaskRunner; mjPoll: MjPollCoordinator; close(): void };

/** The task kinds of one worker process: the runner, and the MJ batch poll coordinator it shares. */
export function createTaskServices(deps: TaskServicesDeps): TaskServices {
  const { settings } = deps;
  const schedule = { minMs: settings.TASK_POLL_MIN_MS, maxMs: Math.max(settings.TASK_POLL_MIN_MS, settings.TASK_POLL_MAX_MS) };
  const mjQueue = deps.queues.queue('mj');
  const mjPoll = new MjPollCoordinator(
    deps.upstream,
    {
      batchSize: settings.MJ_POLL_BATCH,
      windowMs: settings.MJ_POLL_WINDOW_MS,
      freshMs: Math.max(1, Math.floor(schedule.minMs / 2)),
      forgetAfterMs: schedule.maxMs * 4,
    },
    // a parked MJ job whose task changed status is woken now instead of at its next scheduled poll
    (jobId) => {
      mjQueue
        .getJob(jobId)
        .then(async (bullJob) => {
          if (bullJob && (await bullJob.isDelayed())) await bullJob.promote();
        })
        .catch(() => undefined);
    },
    deps.logger,
  );
  const runner = new TaskRunner({
    jobs: deps.jobs,
    attempts: deps.attempts,
    artifacts: deps.artifacts,
    events: deps.events,
    upstream: deps.upstream,
    media: deps.media,
    artifactWriter: deps.artifactWriter,
    logger: deps.logger,
    // the gateway task types of the worker's registry (RUNNERS)
    kinds: createTaskKinds({ mjPoll }),
    schedule,
    maxConsecutiveErrors: Math.max(5, settings.JOB_MAX_ATTEMPTS),
    notFoundRetries: 5,
    // a run that finds `submitting` younger than this may be racing a live call (a stalled re-run): it waits
    submitGuardMs: settings.TASK_SUBMIT_TIMEOUT_MS + 5_000,
  });
  return {
    runner,
    mjPoll,
    close() {
      if (mjPoll.stats.requests > 0) deps.logger.info({ ...mjPoll.stats }, 'mj.poll.stats');
      mjPoll.close();
    },
  };
}
