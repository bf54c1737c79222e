import {
  canTransition,
  eventTypeFor,
  FINAL_STATUSES,
  isFinalStatus,
  JOB_EVENT_TYPES,
  JOB_STATUSES,
  sourcesOf,
  TRANSITIONS,
  type JobStatus,
} from '../src';

describe('job status transitions', () => {
  const every = (predicate: (from: JobStatus, to: JobStatus) => boolean): Array<[JobStatus, JobStatus]> =>
    JOB_STATUSES.flatMap((from) => JOB_STATUSES.filter((to) => predicate(from, to)).map((to): [JobStatus, JobStatus] => [from, to]));

  it('allows exactly the documented changes', () => {
    expect(every(canTransition)).toEqual([
      ['queued', 'running'],
      ['queued', 'failed'],
      ['queued', 'canceled'],
      ['queued', 'expired'],
      ['running', 'succeeded'],
      ['running', 'failed'],
      ['running', 'canceled'],
      ['failed', 'queued'],
      ['canceled', 'queued'],
    ]);
  });

  it('never leaves succeeded or expired, and never changes a status to itself', () => {
    for (const to of JOB_STATUSES) {
      expect(canTransition('succeeded', to)).toBe(false);
      expect(canTransition('expired', to)).toBe(false);
      expect(canTransition(to, to)).toBe(false);
    }
  });

  it('only starts, finishes or retries: a running job cannot go back to queued, a final one cannot run', () => {
    expect(canTransition('running', 'queued')).toBe(false);
    for (const final of FINAL_STATUSES) expect(canTransition(final, 'running')).toBe(false);
    expect(canTransition('queued', 'succeeded')).toBe(false);
  });

  it('has an entry for every status and names only known statuses', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...JOB_STATUSES].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const to of targets) expect(JOB_STATUSES).toContain(to);
  });

  it('sourcesOf is the inverse of the table (what a guarded UPDATE may start from)', () => {
    expect(sourcesOf('running')).toEqual(['queued']);
    expect(sourcesOf('succeeded')).toEqual(['running']);
    expect(sourcesOf('canceled')).toEqual(['queued', 'running']);
    expect(sourcesOf('queued')).toEqual(['failed', 'canceled']);
    expect(sourcesOf('expired')).toEqual(['queued']);
    for (const to of JOB_STATUSES) for (const from of sourcesOf(to)) expect(canTransition(from, to)).toBe(true);
  });

  it('knows the final statuses', () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['canceled', 'expired', 'failed', 'succeeded']);
    expect(JOB_STATUSES.filter(isFinalStatus)).toEqual(['succeeded', 'failed', 'canceled', 'expired']);
    expect(isFinalStatus('nonsense')).toBe(false);
  });

  it('names the event of each change, telling a retry from a creation', () => {
    expect(eventTypeFor('queued')).toBe('job.created');
    expect(eventTypeFor('queued', 'failed')).toBe('job.retried');
    expect(eventTypeFor('queued', 'canceled')).toBe('job.retried');
    expect(eventTypeFor('running', 'queued')).toBe('job.started');
    expect(eventTypeFor('succeeded', 'running')).toBe('job.succeeded');
    expect(eventTypeFor('failed', 'running')).toBe('job.failed');
    expect(eventTypeFor('canceled', 'queued')).toBe('job.canceled');
    expect(eventTypeFor('expired', 'queued')).toBe('job.expired');
    for (const [from, to] of every(canTransition)) expect(JOB_EVENT_TYPES).toContain(eventTypeFor(to, from));
  });
});
