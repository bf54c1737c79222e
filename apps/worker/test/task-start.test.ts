import { canTransition, eventTypeFor, type JobStatus } from '@genqueue/core';
import { RunningLimitReached, type Job, type JobPatch, type JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import pino from 'pino';
import { JobRunner } from '../src/job-runner';
import type { RunOutcome, TaskRunnerPort } from '../src/run-types';

/**
 * The job runner is the only caller of the task runner, and it starts every queued job itself: a
 * task kind is handed a running job, never a queued one (so the task runner has no start of its own).
 */

const JOB_ID = 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW';

function setup(options: { status: JobStatus; queueExpiresAt?: Date; projectFull?: boolean }) {
  const job = {
    id: JOB_ID,
    projectId: 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW',
    type: 'video.generate',
    status: options.status,
    input: { prompt: 'a fox' },
    queueExpiresAt: options.queueExpiresAt ?? new Date(Date.now() + 60_000),
    deadlineAt: null,
    attempts: 0,
    receivedOutput: null,
  };
  const events: string[] = [];
  let begunAttempts = 0;
  const jobs = {
    findById: async (id: string) => (id === job.id ? ({ ...job } as unknown as Job) : null),
    transition: async (id: string, to: JobStatus, patch: JobPatch = {}) => {
      if (to === 'running' && options.projectFull) throw new RunningLimitReached(job.projectId, 1);
      const before = job.status;
      if (id !== job.id || !canTransition(before, to)) return null;
      job.status = to;
      if (to === 'running') job.attempts += 1;
      if (patch.error !== undefined) (job as Record<string, unknown>).error = patch.error;
      const type = eventTypeFor(to, before);
      events.push(type);
      return { job: { ...job } as unknown as Job, event: { seq: events.length, type } };
    },
    beginAttempt: async () => {
      begunAttempts += 1;
      return { ...job } as unknown as Job;
    },
  } as unknown as JobsRepository;
  const handed: JobStatus[] = [];
  const tasks: TaskRunnerPort = {
    handles: (type) => type === 'video.generate',
    run: async (given): Promise<RunOutcome> => {
      handed.push(given.status as JobStatus);
      return { kind: 'park', delayMs: 1_000 };
    },
  };
  const runner = new JobRunner({
    jobs,
    attempts: { record: async () => undefined } as never,
    artifacts: { detachFromJob: async () => undefined } as never,
    events: { announce: async () => undefined } as unknown as JobEventBus,
    upstream: {} as never,
    media: {} as never,
    artifactWriter: {} as never,
    logger: pino({ level: 'silent' }),
    tasks,
  });
  const run = () => runner.run(JOB_ID, { isLastAttempt: false, signal: new AbortController().signal });
  return { job, events, handed, run, begunAttempts: () => begunAttempts };
}

describe('a task kind is handed a started job', () => {
  it('starts a queued task job once, then hands it over running', async () => {
    const t = setup({ status: 'queued' });
    await expect(t.run()).resolves.toEqual({ kind: 'park', delayMs: 1_000 });
    expect(t.handed).toEqual(['running']);
    expect(t.events).toEqual(['job.started']);
    expect(t.job.attempts).toBe(1);
  });

  it('hands a woken (running) task job over without a start or a counted attempt', async () => {
    const t = setup({ status: 'running' });
    await t.run();
    expect(t.handed).toEqual(['running']);
    expect(t.events).toEqual([]);
    expect(t.begunAttempts()).toBe(0);
  });

  it('expires a queued task job past its queue TTL without handing it over', async () => {
    const t = setup({ status: 'queued', queueExpiresAt: new Date(Date.now() - 1) });
    await expect(t.run()).resolves.toEqual({ kind: 'done' });
    expect(t.handed).toEqual([]);
    expect(t.job.status).toBe('expired');
  });

  it('keeps a queued task job of a full project queued, without handing it over', async () => {
    const t = setup({ status: 'queued', projectFull: true });
    await expect(t.run()).resolves.toEqual({ kind: 'project_at_limit', projectId: t.job.projectId, maxRunningJobs: 1 });
    expect(t.handed).toEqual([]);
    expect(t.job.status).toBe('queued');
  });
});
