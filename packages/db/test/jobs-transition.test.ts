import { toEventSnapshot, type JobStatus } from '@genqueue/core';
import { poolOf } from '../src/client';
import { ArtifactsRepository } from '../src/repositories/artifacts.repository';
import type { Change } from '../src/repositories/jobs.repository';
import { newJobInput, secretOf, useRepositories } from './repository-fixtures';

/**
 * A status change with no webhook to write runs as one statement whose event snapshot Postgres
 * builds (EVENT_SNAPSHOT_SQL); it must store exactly what toEventSnapshot makes of the job.
 */
describe('JobsRepository status change in one statement', () => {
  const { prisma, jobs, endpoints, newProject } = useRepositories('genqueue_test_transition', { projectPrefix: 'transition' });
  const artifacts = new ArtifactsRepository(prisma);

  /** Interactive transactions opened on the pool (the transaction path checks a client out; one statement does not). */
  let transactions = 0;
  beforeAll(() => {
    const pool = poolOf(prisma)!;
    const connect = pool.connect.bind(pool);
    pool.connect = ((callback?: unknown) => {
      if (callback === undefined) transactions += 1;
      return connect(callback as never);
    }) as typeof pool.connect;
  });

  /** The stored event of a change, next to what toEventSnapshot makes of the job row and its artifacts now. */
  async function storedAndExpected(change: Change | null) {
    expect(change).not.toBeNull();
    const stored = await prisma.jobEvent.findUniqueOrThrow({ where: { id: change!.event.id } });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: change!.job.id } });
    const expected = toEventSnapshot(job, await artifacts.listForJob(job.id));
    return { stored: stored.data, returned: change!.event.data, expected: JSON.parse(JSON.stringify(expected)) as unknown };
  }

  it('stores the snapshot toEventSnapshot makes, through start, progress fields, artifacts and the end', async () => {
    const projectId = await newProject();
    const created = await jobs.create({ ...newJobInput(projectId, null, ['job.succeeded']), metadata: { team: 'ops', tier: 'gold' }, priority: 7 });
    const transactionsBefore = transactions;
    const started = await jobs.transition(created.job.id, 'running', { upstreamTaskId: 'task_1', upstreamStatus: 'IN_PROGRESS', progress: 40 });
    let seen = await storedAndExpected(started);
    expect(seen.stored).toEqual(seen.expected);
    expect(seen.returned).toEqual(seen.expected);
    expect(started!.event).toMatchObject({ type: 'job.started', seq: 2 });

    for (const n of [1, 2]) {
      await artifacts.create({ projectId, jobId: created.job.id, kind: 'image', contentType: 'image/png', bytes: 5_000_000_000 + n, sha256: `sha${n}`, storageKey: `k${n}` });
    }
    const done = await jobs.transition(created.job.id, 'succeeded', { output: { images: [{ n: 1, text: 'ünïcode "quoted"' }] } });
    seen = await storedAndExpected(done);
    expect(seen.stored).toEqual(seen.expected);
    expect(seen.returned).toEqual(seen.expected);
    expect(done!.event).toMatchObject({ type: 'job.succeeded', seq: 3 });
    expect((seen.stored as { artifacts: unknown[] }).artifacts).toHaveLength(2);
    // both changes went as single statements
    expect(transactions).toBe(transactionsBefore);
  });

  it('keeps an oversized input capped the way the first event capped it, and writes errors', async () => {
    const projectId = await newProject();
    const prompt = 'x'.repeat(20_000);
    const created = await jobs.create({ ...newJobInput(projectId, null, []), input: { prompt } });
    await jobs.transition(created.job.id, 'running');
    const failed = await jobs.transition(created.job.id, 'failed', { error: { code: 'upstream_error', message: 'boom', retryable: false } });
    const seen = await storedAndExpected(failed);
    expect(seen.stored).toEqual(seen.expected);
    expect((seen.stored as { input: unknown }).input).toEqual({ truncated: true, bytes: JSON.stringify({ prompt }).length });
  });

  it('answers null for a change from a status it does not start from, and writes nothing', async () => {
    const projectId = await newProject();
    const created = await jobs.create(newJobInput(projectId, null, []));
    const events = () => prisma.jobEvent.count({ where: { jobId: created.job.id } });
    expect(await jobs.transition(created.job.id, 'succeeded', {}, ['running' as JobStatus])).toBeNull();
    expect(await jobs.transition('job_00000000000000000000000000', 'running')).toBeNull();
    expect(await events()).toBe(1);
    expect((await prisma.job.findUniqueOrThrow({ where: { id: created.job.id } })).status).toBe('queued');
  });

  it('still writes deliveries when the job has a URL or its project an endpoint (the transaction path)', async () => {
    const projectId = await newProject();
    const withUrl = await jobs.create(newJobInput(projectId, 'https://hooks.example.com/a', ['job.started']));
    const transactionsBefore = transactions;
    const started = await jobs.transition(withUrl.job.id, 'running');
    expect(transactions).toBeGreaterThan(transactionsBefore);
    expect(started!.deliveryIds?.length).toBeGreaterThan(0);
    const seen = await storedAndExpected(started);
    expect(seen.stored).toEqual(seen.expected);
  });

  it('leaves a project with an active endpoint to the transaction path too', async () => {
    const projectId = await newProject();
    await endpoints.createEndpoint({ projectId, url: 'https://hooks.example.com/endpoint', eventTypes: ['job.started'], description: null, secret: secretOf(4) });
    const created = await jobs.create(newJobInput(projectId, null, []));
    const started = await jobs.transition(created.job.id, 'running');
    expect(started!.deliveryIds?.length).toBeGreaterThan(0);
  });
});
