import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { newId } from '@genqueue/core';
import { createRedis, EMBEDDING_CHUNK_QUEUE, JITTER_BACKOFF, ProjectWaitingRoom, projectWaitingListKey, queuePrefix } from '@genqueue/queue';
import { testRedisUrl } from '@genqueue/testing';
import type { ChunkOutcome, ChunkRunner } from '../src/embeddings/chunk-runner';
import type { JobRunner, RunOutcome } from '../src/job-runner';
import { createEmbeddingChunkWorker } from '../src/processors/embedding-chunk.processor';
import { jobProcessor } from '../src/processors/job.processor';
import { pollUntil } from './helpers';

/** Both BullMQ edges (job families, embedding chunks) on a real Redis: what each outcome does to the BullMQ job. */

type Run = { ref: unknown; isLastAttempt: boolean; at: number };

/** A runner that answers with `outcomes` in turn (the last one for every further run) and records each run. */
function scriptedRunner<O>(outcomes: O[]) {
  const runs: Run[] = [];
  const runner = {
    run: async (ref: unknown, ctx: { isLastAttempt: boolean }) => {
      runs.push({ ref, isLastAttempt: ctx.isLastAttempt, at: Date.now() });
      return outcomes[Math.min(runs.length, outcomes.length) - 1]!;
    },
  };
  return { runner, runs };
}

type Finished = { state: 'completed' | 'failed'; job: BullJob; err?: Error };

/** Resolves when the worker is done with the job: completed, or failed with no attempt left. Call it before adding the job. */
function finished(worker: Worker, jobId: string): Promise<Finished> {
  return new Promise((resolve) => {
    worker.on('completed', (job) => job.id === jobId && resolve({ state: 'completed', job }));
    worker.on('failed', (job, err) => job?.id === jobId && job.attemptsMade >= (job.opts.attempts ?? 1) && resolve({ state: 'failed', job, err }));
  });
}

describe('BullMQ edge', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  const shutdown = new AbortController();
  let connection: Redis;
  const lanes: Array<{ queue: Queue; worker: Worker }> = [];

  beforeAll(async () => {
    connection = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (connection.status === 'ready' ? resolve() : connection.once('ready', () => resolve())));
  });

  afterEach(async () => {
    for (const { queue, worker } of lanes.splice(0)) {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  afterAll(() => connection.disconnect());

  /** A job-family queue served by `jobProcessor` with a scripted runner. */
  function jobLane(outcomes: RunOutcome[], rateLimitPauseMs = 400, waitingRoom = new ProjectWaitingRoom(connection, prefix)) {
    const name = `job-edge-${randomBytes(3).toString('hex')}`;
    const queue = new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
    const { runner, runs } = scriptedRunner(outcomes);
    const worker = new Worker(
      name,
      // a waiting job is only woken in these tests: the backstop is longer than any of them
      jobProcessor({ runner: runner as unknown as JobRunner, queue, rateLimitPauseMs, shutdownSignal: shutdown.signal, waitingRoom, projectSlotRecheckMs: 600_000, runningJobsOf: async () => 1 }),
      // as in the worker host: BullMQ honours a queue-wide pause only on a worker with a limiter
      { connection, prefix: queue.opts.prefix, concurrency: 1, limiter: { max: 1_000, duration: 60_000 } },
    );
    lanes.push({ queue, worker });
    /** Adds a job; resolves with its id and with when the worker is done with it. */
    const add = async (attempts = 2, data?: Record<string, unknown>) => {
      const jobId = newId('job');
      const end = finished(worker, jobId);
      await queue.add('run', data ?? { jobId }, { jobId, attempts, backoff: { type: 'fixed', delay: 50 } });
      return { jobId, end };
    };
    return { runs, add };
  }

  /** The chunk queue served by the real chunk worker with a scripted runner. */
  function chunkLane(outcomes: ChunkOutcome[]) {
    const queue = new Queue(EMBEDDING_CHUNK_QUEUE, { connection, prefix: queuePrefix(prefix, EMBEDDING_CHUNK_QUEUE) });
    const { runner, runs } = scriptedRunner(outcomes);
    const worker = createEmbeddingChunkWorker({
      connection,
      queue,
      runner: runner as unknown as ChunkRunner,
      concurrency: 1,
      requestsPerMinute: 6_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      workerCrashLimit: 2,
      rateLimitPauseMs: 400,
      shutdownSignal: shutdown.signal,
      backoff: () => 50,
    });
    lanes.push({ queue, worker });
    const add = async (data: Record<string, unknown>) => {
      const id = `chunk-${randomBytes(4).toString('hex')}`;
      const end = finished(worker, id);
      await queue.add('chunk', data, { jobId: id, attempts: 2, backoff: { type: JITTER_BACKOFF, delay: 50 } });
      return end;
    };
    return { runs, add };
  }

  describe('jobProcessor', () => {
    const HTTP_500 = { kind: 'retry', error: { code: 'upstream_error', message: 'HTTP 500', retryable: true } } as const;

    it('runs a job once when it is done', async () => {
      const lane = jobLane([{ kind: 'done' }]);
      const { jobId, end } = await lane.add();
      await expect(end).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs).toEqual([{ ref: jobId, isLastAttempt: false, at: expect.any(Number) }]);
    });

    it('retries with an attempt used, the retry being the last attempt', async () => {
      const lane = jobLane([HTTP_500, { kind: 'done' }]);
      const { end } = await lane.add(2);
      await expect(end).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, true]);
    });

    it('fails with the run error on the last attempt', async () => {
      const lane = jobLane([HTTP_500]);
      const { end } = await lane.add(1);
      const result = await end;
      expect(result.state).toBe('failed');
      expect(result.err?.message).toBe('HTTP 500');
    });

    it('parks a job as delayed for the time the run asked, without using an attempt', async () => {
      const lane = jobLane([{ kind: 'park', delayMs: 300 }, { kind: 'done' }]);
      const { end } = await lane.add(2);
      await expect(end).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, false]);
      expect(lane.runs[1]!.at - lane.runs[0]!.at).toBeGreaterThanOrEqual(300);
    });

    it('holds a job over its project limit as delayed until a freed slot wakes it, without using an attempt', async () => {
      const room = new ProjectWaitingRoom(connection, prefix);
      const projectId = newId('prj');
      const lane = jobLane([{ kind: 'project_at_limit', projectId, maxRunningJobs: 1 }, { kind: 'done' }], 400, room);
      const { jobId, end } = await lane.add(2);
      const name = lanes[lanes.length - 1]!.queue.name;
      const queue = new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
      try {
        // waiting: delayed with the long backstop, and on the project's list
        await pollUntil('the job delayed and on its project list', async () =>
          (await queue.getJobState(jobId)) === 'delayed' && (await connection.zcard(projectWaitingListKey(prefix, projectId))) === 1 ? true : undefined,
        );
        expect(lane.runs).toHaveLength(1);
        // another project's freed slot wakes nobody here; this project's does
        expect(await room.wakeOne(newId('prj'))).toBe(false);
        expect(await room.wakeOne(projectId)).toBe(true);
        await expect(end).resolves.toMatchObject({ state: 'completed' });
        expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, false]);
        // the list is spent: a second wake finds nobody
        expect(await room.wakeOne(projectId)).toBe(false);
      } finally {
        await queue.close();
        await room.close();
      }
    });

    it('hands an interrupted job back as delayed, without using an attempt', async () => {
      const lane = jobLane([{ kind: 'interrupted' }, { kind: 'done' }]);
      const { end } = await lane.add(2);
      await expect(end).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, false]);
      expect(lane.runs[1]!.at - lane.runs[0]!.at).toBeGreaterThanOrEqual(1_000);
    });

    it('on a 429 pauses the whole queue and delays the job, without using an attempt', async () => {
      const lane = jobLane([{ kind: 'rate_limited', error: { code: 'upstream_error', message: '429', retryable: true } }, { kind: 'done' }], 400);
      const first = await lane.add(2);
      const second = await lane.add(2);
      await expect(Promise.all([first.end, second.end])).resolves.toMatchObject([{ state: 'completed' }, { state: 'completed' }]);
      const [limited, ...rest] = lane.runs;
      expect(limited).toMatchObject({ ref: first.jobId, isLastAttempt: false });
      // the other job, waiting meanwhile, starts only once the pause (400 ms ± 25 %) is over
      expect(rest.find((r) => r.ref === second.jobId)!.at - limited!.at).toBeGreaterThanOrEqual(300);
      expect(rest.find((r) => r.ref === first.jobId)).toMatchObject({ isLastAttempt: false });
    });

    it('refuses a payload that is not a job reference, without running anything', async () => {
      const lane = jobLane([{ kind: 'done' }]);
      const { end } = await lane.add(1, { jobId: 'nope' });
      await expect(end).resolves.toMatchObject({ state: 'failed' });
      expect(lane.runs).toEqual([]);
    });
  });

  describe('embedding chunk worker', () => {
    const ref = { jobId: newId('job'), index: 2 };

    it('runs the chunk its payload names once when it is done', async () => {
      const lane = chunkLane([{ kind: 'done' }]);
      await expect(lane.add(ref)).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs).toEqual([{ ref, isLastAttempt: false, at: expect.any(Number) }]);
    });

    it('retries with an attempt used, on the lane backoff', async () => {
      const lane = chunkLane([{ kind: 'retry', error: { code: 'upstream_error', message: 'HTTP 502', retryable: true } }, { kind: 'done' }]);
      await expect(lane.add(ref)).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, true]);
    });

    it('runs a chunk that cannot run yet again about a second later, without using an attempt', async () => {
      const lane = chunkLane([{ kind: 'later' }, { kind: 'done' }]);
      await expect(lane.add(ref)).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, false]);
      expect(lane.runs[1]!.at - lane.runs[0]!.at).toBeGreaterThanOrEqual(1_000);
    });

    it('on a 429 delays the chunk past the pause, without using an attempt', async () => {
      const lane = chunkLane([{ kind: 'rate_limited', error: { code: 'upstream_error', message: '429', retryable: true } }, { kind: 'done' }]);
      await expect(lane.add(ref)).resolves.toMatchObject({ state: 'completed' });
      expect(lane.runs.map((r) => r.isLastAttempt)).toEqual([false, false]);
      expect(lane.runs[1]!.at - lane.runs[0]!.at).toBeGreaterThanOrEqual(300);
    });

    it('refuses a payload that is not a chunk reference, without running anything', async () => {
      const lane = chunkLane([{ kind: 'done' }]);
      await expect(lane.add({ jobId: ref.jobId })).resolves.toMatchObject({ state: 'failed' });
      expect(lane.runs).toEqual([]);
    });
  });
});
