import { newJobInput, useRepositories } from './repository-fixtures';

/** `updateRunning` with a compare-and-set on the upstream state: of two runs that read one state, one writes. */
describe('JobsRepository.updateRunning compare and set', () => {
  const { jobs, newProject } = useRepositories('genqueue_test_cas', { projectPrefix: 'cas', webhookOutbox: false });

  async function runningJob(): Promise<string> {
    const created = await jobs.create(newJobInput(await newProject(), null, []));
    expect(await jobs.transition(created.job.id, 'running')).not.toBeNull();
    return created.job.id;
  }

  it('lets exactly one of several writers that read the same state through, from a null state and from a set one', async () => {
    const jobId = await runningJob();
    const fromNull = await Promise.all([1, 2, 3, 4].map((n) => jobs.updateRunning(jobId, { upstreamState: { phase: 'submitting', submits: n } }, undefined, null)));
    expect(fromNull.filter((r) => r !== null)).toHaveLength(1);
    const stored = (await jobs.findById(jobId))!.upstreamState;
    expect(stored).toEqual(fromNull.find((r) => r !== null)!.job.upstreamState);

    const fromSet = await Promise.all([5, 6].map((n) => jobs.updateRunning(jobId, { upstreamState: { phase: 'polling', submits: n } }, 'job.progress', stored)));
    const winners = fromSet.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.event?.type).toBe('job.progress');
    // a stale read no longer matches
    expect(await jobs.updateRunning(jobId, { progress: 50 }, undefined, stored)).toBeNull();
    // without the guard the update goes through as before
    expect(await jobs.updateRunning(jobId, { progress: 50 })).not.toBeNull();
  });
});
