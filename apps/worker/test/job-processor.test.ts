import { DelayedError, type Job as BullJob, type Queue } from 'bullmq';
import type { JobRunner, RunOutcome } from '../src/job-runner';
import { jitteredBackoff, jobProcessor } from '../src/processors/job.processor';
import { rateLimitPause } from '../src/processors/outcome-to-bullmq';

describe('jitteredBackoff', () => {
  const fixed = (value: number) => () => value;

  it('doubles from the base delay on each attempt', () => {
    const middle = jitteredBackoff(100, 1_000_000, fixed(0.5));
    expect([1, 2, 3, 4, 5].map(middle)).toEqual([100, 200, 400, 800, 1600]);
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(jitteredBackoff(100, 10_000, fixed(0.5))(0)).toBe(100);
  });

  it('jitters by ±25 %', () => {
    expect(jitteredBackoff(1000, 1_000_000, fixed(0))(1)).toBe(750);
    expect(jitteredBackoff(1000, 1_000_000, fixed(0.999999))(1)).toBe(1250);
  });

  it('never exceeds the cap, jitter included, however many attempts', () => {
    const highest = jitteredBackoff(100, 1000, fixed(0.999999));
    for (const attempt of [4, 5, 10, 50, 2000]) expect(highest(attempt)).toBe(1000);
    expect(jitteredBackoff(100, 1000, fixed(0))(50)).toBe(750);
  });

  it('spreads retries of the same attempt with the real random source', () => {
    const backoff = jitteredBackoff(1000, 60_000);
    const delays = new Set(Array.from({ length: 50 }, () => backoff(3)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(3000);
      expect(delay).toBeLessThanOrEqual(5000);
    }
  });
});

describe('rateLimitPause', () => {
  it('is the setting ±25 %', () => {
    expect(rateLimitPause(1000, () => 0)).toBe(750);
    expect(rateLimitPause(1000, () => 0.5)).toBe(1000);
    expect(rateLimitPause(1000, () => 0.999999)).toBe(1250);
  });
});

describe('jobProcessor', () => {
  const JOB_ID = 'job_01JD7Q3V9XK6M2N4P8R0S5T7VW';

  function setup(outcome: RunOutcome) {
    const calls: Array<{ jobId: string; isLastAttempt: boolean }> = [];
    const runner = {
      run: async (jobId: string, ctx: { isLastAttempt: boolean }) => {
        calls.push({ jobId, isLastAttempt: ctx.isLastAttempt });
        return outcome;
      },
    } as unknown as JobRunner;
    const rateLimits: number[] = [];
    const queue = { rateLimit: async (ms: number) => void rateLimits.push(ms) } as unknown as Queue;
    const delays: Array<{ until: number; token?: string }> = [];
    const bullJob = (attemptsMade: number, attempts?: number) =>
      ({
        data: { jobId: JOB_ID },
        attemptsMade,
        opts: attempts === undefined ? {} : { attempts },
        moveToDelayed: async (until: number, token?: string) => void delays.push({ until, token }),
      }) as unknown as BullJob;
    const process = jobProcessor({ runner, queue, rateLimitPauseMs: 1000, shutdownSignal: new AbortController().signal });
    return { process, calls, rateLimits, delays, bullJob };
  }

  it('finishes quietly when the run is done', async () => {
    const { process, calls, bullJob } = setup({ kind: 'done' });
    await expect(process(bullJob(0, 3), 'tok')).resolves.toBeUndefined();
    expect(calls).toEqual([{ jobId: JOB_ID, isLastAttempt: false }]);
  });

  it('knows the last attempt from BullMQ counts', async () => {
    const { process, calls, bullJob } = setup({ kind: 'done' });
    await process(bullJob(1, 3), 'tok');
    await process(bullJob(2, 3), 'tok');
    await process(bullJob(0), 'tok');
    expect(calls.map((c) => c.isLastAttempt)).toEqual([false, true, true]);
  });

  it('throws for BullMQ to retry with backoff', async () => {
    const { process, bullJob } = setup({ kind: 'retry', error: { code: 'upstream_error', message: 'HTTP 500', retryable: true } });
    await expect(process(bullJob(0, 3), 'tok')).rejects.toThrow('HTTP 500');
  });

  it('pauses the lane on a 429 and parks the job as delayed, without using an attempt', async () => {
    const { process, rateLimits, delays, bullJob } = setup({
      kind: 'rate_limited',
      error: { code: 'upstream_error', message: '429', retryable: true },
    });
    const before = Date.now();
    await expect(process(bullJob(0, 3), 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(rateLimits).toHaveLength(1);
    expect(rateLimits[0]).toBeGreaterThanOrEqual(750);
    expect(rateLimits[0]).toBeLessThanOrEqual(1250);
    expect(delays).toHaveLength(1);
    expect(delays[0]!.token).toBe('tok');
    expect(delays[0]!.until).toBeGreaterThanOrEqual(before + rateLimits[0]!);
  });

  it('hands an interrupted job back to the queue as delayed', async () => {
    const { process, rateLimits, delays, bullJob } = setup({ kind: 'interrupted' });
    await expect(process(bullJob(0, 3), 'tok')).rejects.toBeInstanceOf(DelayedError);
    expect(rateLimits).toEqual([]);
    expect(delays).toEqual([{ until: expect.any(Number), token: 'tok' }]);
  });

  it('refuses a payload that is not a job reference', async () => {
    const { process, calls } = setup({ kind: 'done' });
    await expect(process({ data: { jobId: 'nope' }, attemptsMade: 0, opts: {} } as unknown as BullJob, 'tok')).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});
