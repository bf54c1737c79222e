import { JobsRepository } from '../src/repositories/jobs.repository';
import { CostsRepository, type NewCostEntry } from '../src/repositories/costs.repository';
import { ProjectsRepository } from '../src/repositories/projects.repository';
import { newJobInput, useMigratedDatabase } from './repository-fixtures';

/** The ledger's per-job write (one raw statement for any number of entries) and its read of the job. */
describe('CostsRepository.recordMany', () => {
  const prisma = useMigratedDatabase('genqueue_test_costs', 3);
  const costs = new CostsRepository(prisma);
  const chargedAt = new Date('2026-12-05T10:00:00.123Z');
  const entry = (jobId: string, entryKey: string, units: number): NewCostEntry => ({
    jobId,
    projectId: 'prj_costs',
    jobType: 'image.generate',
    entryKey,
    source: 'usage',
    units,
    model: 'gpt-image-1',
    detail: { prompt_tokens: 3, note: 'ünïcode "quoted"' },
    chargedAt,
  });

  it('inserts each entry once: a replayed key, in the same statement or a later one, is a no-op for that entry only', async () => {
    const first = await costs.recordMany([entry('job_a', 'usage:1', 10.4), entry('job_b', 'usage:1', 20), entry('job_a', 'usage:1', 99)]);
    expect(first).toEqual([true, true, false]);
    const again = await costs.recordMany([entry('job_b', 'usage:1', 21), entry('job_b', 'usage:2', 5)]);
    expect(again).toEqual([false, true]);
    expect(await costs.record(entry('job_a', 'usage:1', 7))).toBe(false);

    const rows = await costs.forJob('job_a');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      jobId: 'job_a',
      projectId: 'prj_costs',
      jobType: 'image.generate',
      entryKey: 'usage:1',
      kind: 'charge',
      source: 'usage',
      estimated: false,
      units: 10n,
      model: 'gpt-image-1',
      detail: { prompt_tokens: 3, note: 'ünïcode "quoted"' },
      chargedAt,
    });
    expect(rows[0]!.id).toMatch(/^jco_/);
    expect((await costs.forJob('job_b')).map((r) => [r.entryKey, Number(r.units)])).toEqual([
      ['usage:1', 20],
      ['usage:2', 5],
    ]);
  });

  it('reads the job it prices as Prisma does', async () => {
    const project = await new ProjectsRepository(prisma).create('costs-1');
    const created = await new JobsRepository(prisma, { webhookOutbox: null }).create(newJobInput(project.id, null, []));
    expect(await costs.jobToPrice(created.job.id)).toEqual(await prisma.job.findUnique({ where: { id: created.job.id } }));
    expect(await costs.jobToPrice('job_missing')).toBeNull();
  });
});
