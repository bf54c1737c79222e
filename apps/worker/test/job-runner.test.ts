import { canTransition, eventTypeFor, type JobStatus } from '@genqueue/core';
import type { ArtifactsRepository, Job, JobAttemptEntry, JobAttemptsRepository, JobPatch, JobsRepository, WriteAlongside } from '@genqueue/db';
import type { JobEventBus, JobSignal } from '@genqueue/queue';
import { UpstreamError, type ImageGenerateRequest, type ImageResult, type UpstreamClient } from '@genqueue/upstream';
import pino from 'pino';
import { JobRunner } from '../src/job-runner';
import type { ArtifactWriter } from '../src/media/artifact-writer';
import type { MediaResolver } from '../src/media/media-resolver';

/** The runner against in-memory fakes: every path from `queued` to a final status, without I/O. */

const JOB_ID = 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW';
const PNG_B64 = Buffer.from('\x89PNG\r\n\x1a\nfake').toString('base64');

type Generate = (request: ImageGenerateRequest, options: { signal?: AbortSignal }) => Promise<ImageResult>;

function abortable(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A gateway call that hangs until its signal aborts; `started` resolves once it has been made. */
function blockedCall(): { generate: Generate; started: Promise<void> } {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const generate: Generate = (_request, options) => {
    markStarted();
    return abortable(options.signal);
  };
  return { generate, started };
}

function setup(options: { status?: JobStatus; attempts?: number; queueExpiresAt?: Date; deadlineAt?: Date | null; type?: string; generate?: Generate } = {}) {
  const now = Date.now();
  const job = {
    id: JOB_ID,
    projectId: 'prj_01JD7Q3V9XK6M2N4P8R0S5T7VW',
    type: options.type ?? 'image.generate',
    status: options.status ?? 'queued',
    input: { prompt: 'a fox', model: 'gpt-image-1', n: 1 },
    output: null as unknown,
    error: null as unknown,
    queueExpiresAt: options.queueExpiresAt ?? new Date(now + 60_000),
    deadlineAt: options.deadlineAt === undefined ? null : options.deadlineAt,
    deadlineSec: 600,
    // runs counted so far: none for a job never started, one for a running job
    attempts: options.attempts ?? ((options.status ?? 'queued') === 'queued' ? 0 : 1),
  };
  const events: string[] = [];
  const running: JobPatch[] = [];
  const jobs = {
    findById: async (id: string) => (id === job.id ? ({ ...job } as unknown as Job) : null),
    transition: async (id: string, to: JobStatus, patch: JobPatch = {}, from?: JobStatus[], alongside?: WriteAlongside) => {
      const allowed = from ?? (['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'] as JobStatus[]).filter((s) => canTransition(s, to));
      if (id !== job.id || !allowed.includes(job.status as JobStatus)) return null;
      const before = job.status as JobStatus;
      job.status = to;
      if (to === 'running') job.attempts += 1;
      if (to === 'running' && !job.deadlineAt) job.deadlineAt = new Date(Date.now() + job.deadlineSec * 1000);
      if (patch.output !== undefined) job.output = patch.output;
      if (patch.error !== undefined) job.error = patch.error;
      const type = eventTypeFor(to, before);
      events.push(type);
      await alongside?.({} as never, { ...job } as unknown as Job);
      return { job: { ...job } as unknown as Job, event: { seq: events.length, type } };
    },
    beginAttempt: async (id: string) => (id === job.id && job.status === 'running' ? ({ ...job } as unknown as Job) : null),
    updateRunning: async (_id: string, patch: JobPatch, _event?: unknown, _ifState?: unknown, alongside?: WriteAlongside) => {
      running.push(patch);
      if (patch.error !== undefined) job.error = patch.error;
      await alongside?.({} as never, { ...job } as unknown as Job);
      return null;
    },
  } as unknown as JobsRepository;

  const detached: string[] = [];
  const artifacts = { detachFromJob: async (id: string) => void detached.push(id) } as unknown as ArtifactsRepository;
  const listeners = new Map<string, (signal: JobSignal) => void>();
  const announced: string[] = [];
  const bus = {
    listen: async (key: string, listener: (signal: JobSignal) => void) => {
      listeners.set(key, listener);
      return () => listeners.delete(key);
    },
    announce: async (change: { job: { status: string } } | null) => void (change && announced.push(change.job.status)),
  } as unknown as JobEventBus;
  const saved: string[] = [];
  const artifactWriter = {
    save: async () => {
      const id = `art_${String(saved.length).padStart(26, '0')}`;
      saved.push(id);
      return { id };
    },
  } as unknown as ArtifactWriter;
  const generate: Generate = options.generate ?? (async () => ({ images: [{ b64Json: PNG_B64 }], usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } }));
  const upstream = { images: { generate } } as unknown as UpstreamClient;
  const attemptLog: JobAttemptEntry[] = [];
  const attempts = { record: async (entry: JobAttemptEntry) => void attemptLog.push(entry) } as unknown as JobAttemptsRepository;
  const runner = new JobRunner({
    jobs,
    attempts,
    artifacts,
    events: bus,
    upstream,
    media: {} as MediaResolver,
    artifactWriter,
    logger: pino({ level: 'silent' }),
  });
  const shutdown = new AbortController();
  const run = (isLastAttempt = false) => runner.run(JOB_ID, { isLastAttempt, signal: shutdown.signal });
  /** What the API (cancel) or the sweeper (timeout) does: the row changes, then a signal goes out. */
  const endElsewhere = (status: 'canceled' | 'failed') => {
    job.status = status;
    const type = eventTypeFor(status, 'running');
    events.push(type);
    listeners.get(JOB_ID)?.({ jobId: JOB_ID, projectId: job.projectId, seq: events.length, status, type });
  };
  const cancelFromApi = () => endElsewhere('canceled');
  return { job, run, events, running, detached, announced, saved, listeners, shutdown, cancelFromApi, endElsewhere, attemptLog };
}

describe('JobRunner', () => {
  it('starts a queued job, stores the output in wire form and succeeds', async () => {
    const t = setup();
    await expect(t.run()).resolves.toEqual({ kind: 'done' });
    expect(t.events).toEqual(['job.started', 'job.succeeded']);
    expect(t.announced).toEqual(['running', 'succeeded']);
    expect(t.job.output).toEqual({ images: [{ artifact_id: t.saved[0] }], usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } });
    expect(t.job.error).toBeNull();
    expect(t.listeners.size).toBe(0);
  });

  it('does nothing for a job that is already final or gone', async () => {
    for (const status of ['succeeded', 'failed', 'canceled', 'expired'] as JobStatus[]) {
      const t = setup({ status });
      await expect(t.run()).resolves.toEqual({ kind: 'done' });
      expect(t.events).toEqual([]);
    }
  });

  it('expires a queued job past its queue TTL without calling the gateway', async () => {
    let calls = 0;
    const t = setup({ queueExpiresAt: new Date(Date.now() - 1), generate: async () => (calls++, { images: [] }) });
    await t.run();
    expect(t.events).toEqual(['job.expired']);
    expect(t.job.error).toMatchObject({ code: 'expired' });
    expect(calls).toBe(0);
  });

  it('resumes a running job (stalled re-run) without a second start', async () => {
    const t = setup({ status: 'running', deadlineAt: new Date(Date.now() + 60_000) });
    await t.run();
    expect(t.events).toEqual(['job.succeeded']);
    expect(t.detached).toEqual([JOB_ID]); // the interrupted run's outputs are let go first
  });

  it('fails a resumed job whose deadline already passed, without calling the gateway', async () => {
    let calls = 0;
    const t = setup({ status: 'running', deadlineAt: new Date(Date.now() - 1), generate: async () => (calls++, { images: [] }) });
    await t.run();
    expect(t.events).toEqual(['job.failed']);
    expect(t.job.error).toMatchObject({ code: 'upstream_timeout', retryable: false });
    expect(calls).toBe(0);
  });

  it('fails as upstream_timeout when the deadline passes during the call', async () => {
    const t = setup({ status: 'running', deadlineAt: new Date(Date.now() + 50), generate: (_r, o) => abortable(o.signal) });
    await expect(t.run()).resolves.toEqual({ kind: 'done' });
    expect(t.events).toEqual(['job.failed']);
    expect(t.job.error).toMatchObject({ code: 'upstream_timeout' });
  });

  it('stops the call when the job is canceled meanwhile, and records nothing more', async () => {
    const call = blockedCall();
    const t = setup({ generate: call.generate });
    const outcome = t.run();
    await call.started;
    t.cancelFromApi();
    await expect(outcome).resolves.toEqual({ kind: 'done' });
    expect(t.events).toEqual(['job.started', 'job.canceled']);
    expect(t.job.status).toBe('canceled');
    expect(t.detached).toContain(JOB_ID);
  });

  it('stops the call when the sweeper fails the job meanwhile (inactivity timeout)', async () => {
    const call = blockedCall();
    const t = setup({ generate: call.generate });
    const outcome = t.run();
    await call.started;
    t.endElsewhere('failed');
    await expect(outcome).resolves.toEqual({ kind: 'done' });
    expect(t.events).toEqual(['job.started', 'job.failed']);
  });

  it('ignores signals that do not end the job', async () => {
    const t = setup({
      generate: async () => {
        t.listeners.get(JOB_ID)?.({ jobId: JOB_ID, projectId: 'p', seq: 9, status: 'running', type: 'job.progress' });
        return { images: [{ b64Json: PNG_B64 }] };
      },
    });
    await t.run();
    expect(t.events).toEqual(['job.started', 'job.succeeded']);
  });

  it('lets go of outputs stored by a run that lost the job to a cancel', async () => {
    const t = setup({
      generate: async () => {
        // the cancel lands after the answer, while the image is being stored
        t.job.status = 'canceled';
        return { images: [{ b64Json: PNG_B64 }] };
      },
    });
    await t.run();
    expect(t.job.status).toBe('canceled');
    expect(t.job.output).toBeNull();
    expect(t.saved).toHaveLength(1);
    // after losing only: a first start has no earlier run whose outputs it would let go
    expect(t.detached).toEqual([JOB_ID]);
  });

  it("lets go of an earlier run's outputs when a job starts again, not when it starts first", async () => {
    const first = setup();
    await first.run();
    expect(first.events).toEqual(['job.started', 'job.succeeded']);
    expect(first.detached).toEqual([]);
    // queued again after a run (an operator's retry): that run's outputs are not this run's
    const again = setup({ attempts: 1 });
    await again.run();
    expect(again.events).toEqual(['job.started', 'job.succeeded']);
    expect(again.detached).toEqual([JOB_ID]);
  });

  it('hands the job back untouched when the process shuts down mid-call', async () => {
    const call = blockedCall();
    const t = setup({ generate: call.generate });
    const outcome = t.run(true);
    await call.started;
    t.shutdown.abort();
    await expect(outcome).resolves.toEqual({ kind: 'interrupted' });
    expect(t.job.status).toBe('running');
    expect(t.events).toEqual(['job.started']);
  });

  it('asks for a retry on a retryable failure, recording the error on the running job', async () => {
    const t = setup({ generate: async () => Promise.reject(new UpstreamError({ kind: 'retryable', message: 'HTTP 500' })) });
    await expect(t.run(false)).resolves.toMatchObject({ kind: 'retry', error: { code: 'upstream_error' } });
    expect(t.job.status).toBe('running');
    expect(t.running).toEqual([{ error: expect.objectContaining({ code: 'upstream_error', retryable: true }) }]);
    expect(t.attemptLog).toEqual([{ jobId: JOB_ID, attempt: 1, outcome: 'retried', error: expect.objectContaining({ code: 'upstream_error', message: 'HTTP 500' }) }]);
  });

  it('fails on the last attempt of a retryable failure', async () => {
    const t = setup({ generate: async () => Promise.reject(new UpstreamError({ kind: 'retryable', message: 'HTTP 500' })) });
    await expect(t.run(true)).resolves.toEqual({ kind: 'done' });
    expect(t.events).toEqual(['job.started', 'job.failed']);
    expect(t.job.error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect(t.attemptLog).toEqual([{ jobId: JOB_ID, attempt: 1, outcome: 'failed', error: expect.objectContaining({ code: 'upstream_error' }) }]);
  });

  it('reports a 429 without touching the job, whatever the attempt', async () => {
    const t = setup({ generate: async () => Promise.reject(new UpstreamError({ kind: 'rate_limited', message: 'HTTP 429' })) });
    await expect(t.run(true)).resolves.toMatchObject({ kind: 'rate_limited' });
    expect(t.job.status).toBe('running');
    expect(t.running).toEqual([]);
    expect(t.attemptLog).toEqual([{ jobId: JOB_ID, attempt: 1, outcome: 'rate_limited', error: expect.objectContaining({ retryable: true }) }]);
  });

  it('fails at once when the gateway refuses the input', async () => {
    const t = setup({ generate: async () => Promise.reject(new UpstreamError({ kind: 'rejected', message: 'banned' })) });
    await t.run(false);
    expect(t.events).toEqual(['job.started', 'job.failed']);
    expect(t.job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
  });

  it('fails a job type no handler serves', async () => {
    const t = setup({ type: 'video.generate' });
    await t.run();
    expect(t.events).toEqual(['job.started', 'job.failed']);
    expect(t.job.error).toMatchObject({ code: 'internal_error' });
  });
});
