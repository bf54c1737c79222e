import pino from 'pino';
import type { MjTask } from '@genqueue/upstream';
import { MjPollCoordinator } from '../src/tasks/mj-poll-coordinator';
import { errorBackoffDelay, nextPollDelay } from '../src/tasks/poll-schedule';
import { readTaskState } from '../src/tasks/task-state';

const task = (id: string, rawStatus: string): MjTask =>
  ({ id, rawStatus, status: rawStatus === 'SUCCESS' ? 'succeeded' : 'pending', isKnownStatus: true, progress: 0, isPreviewImage: false, isTimeout: false, buttons: [], raw: {} }) as MjTask;

describe('poll schedule', () => {
  const schedule = { minMs: 5_000, maxMs: 15_000 };

  it('polls early tasks at the minimum and backs off to the gateway cadence', () => {
    expect(nextPollDelay(schedule, 0, () => 0.5)).toBe(5_000);
    expect(nextPollDelay(schedule, 40_000, () => 0.5)).toBe(10_000);
    expect(nextPollDelay(schedule, 600_000, () => 0.5)).toBe(15_000);
  });

  it('jitters by ±20 %', () => {
    expect(nextPollDelay(schedule, 600_000, () => 0)).toBe(12_000);
    expect(nextPollDelay(schedule, 600_000, () => 1)).toBe(18_000);
  });

  it('backs off exponentially after errors, capped at 4× the cadence', () => {
    expect(errorBackoffDelay(schedule, 1, () => 0.5)).toBe(10_000);
    expect(errorBackoffDelay(schedule, 2, () => 0.5)).toBe(20_000);
    expect(errorBackoffDelay(schedule, 10, () => 0.5)).toBe(60_000);
  });
});

describe('task state', () => {
  it('reads missing or foreign values as a fresh state', () => {
    expect(readTaskState(null)).toMatchObject({ phase: 'ready', submits: 0 });
    expect(readTaskState({ phase: 'bogus', submits: 2 })).toMatchObject({ phase: 'ready', submits: 2 });
    expect(readTaskState({ phase: 'submitting', at: '2026-01-01T00:00:00.000Z', submits: 1 })).toMatchObject({ phase: 'submitting', submits: 1 });
  });
});

describe('MJ poll coordinator', () => {
  function setup(answer: (ids: readonly string[]) => MjTask[]) {
    let now = 1_000_000;
    const calls: string[][] = [];
    const woken: string[] = [];
    const upstream = {
      mj: {
        listByCondition: async (ids: readonly string[]) => {
          calls.push([...ids]);
          return answer(ids);
        },
      },
    } as never;
    const coordinator = new MjPollCoordinator(upstream, { batchSize: 3, windowMs: 1, freshMs: 1_000, forgetAfterMs: 60_000 }, (id) => woken.push(id), pino({ level: 'silent' }), () => now);
    return { coordinator, calls, woken, advance: (ms: number) => (now += ms) };
  }

  it('answers every job waking together with batched list requests of at most N ids', async () => {
    const { coordinator, calls } = setup((ids) => ids.map((id) => task(id, 'IN_PROGRESS')));
    const ids = ['1', '2', '3', '4', '5'];
    const answers = await Promise.all(ids.map((id) => coordinator.status(id, `job_${id}`)));
    expect(answers.map((t) => t?.id)).toEqual(ids);
    expect(calls).toEqual([['1', '2', '3'], ['4', '5']]);
  });

  it('answers from a fresh cache without a request, and null for ids the gateway does not return', async () => {
    const { coordinator, calls, advance } = setup((ids) => ids.filter((id) => id !== 'x').map((id) => task(id, 'SUBMITTED')));
    expect(await coordinator.status('a', 'job_a')).toMatchObject({ id: 'a' });
    expect(await coordinator.status('x', 'job_x')).toBeNull();
    advance(500);
    expect(await coordinator.status('a', 'job_a')).toMatchObject({ id: 'a' });
    expect(calls).toHaveLength(2);
    expect(coordinator.stats.cacheHits).toBe(1);
  });

  it('piggybacks due known tasks on a request and wakes the job whose task changed status', async () => {
    let status = 'IN_PROGRESS';
    const { coordinator, calls, woken, advance } = setup((ids) => ids.map((id) => task(id, id === 'b' ? status : 'IN_PROGRESS')));
    await Promise.all([coordinator.status('a', 'job_a'), coordinator.status('b', 'job_b')]);
    advance(2_000);
    status = 'SUCCESS';
    await coordinator.status('a', 'job_a');
    expect(calls[1]).toEqual(['a', 'b']);
    expect(woken).toEqual(['job_b']);
    // b's next wake is served from the cache
    expect(await coordinator.status('b', 'job_b')).toMatchObject({ rawStatus: 'SUCCESS' });
    expect(calls).toHaveLength(2);
  });

  it('hands a failed request to every waiter of the batch', async () => {
    const { coordinator } = setup(() => {
      throw new Error('gateway down');
    });
    await expect(Promise.all([coordinator.status('a', 'job_a'), coordinator.status('b', 'job_b')])).rejects.toThrow('gateway down');
  });
});
