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

  describe('grouped: changes asked for at once share a statement', () => {
    /** Statements sent on the pool while `work` runs (each pool.query call). */
    async function countingStatements<T>(work: () => Promise<T>): Promise<{ value: T; statements: number }> {
      const pool = poolOf(prisma)!;
      const query = pool.query;
      let statements = 0;
      pool.query = ((...args: unknown[]) => ((statements += 1), (query as (...a: unknown[]) => unknown).apply(pool, args))) as typeof pool.query;
      try {
        return { value: await work(), statements };
      } finally {
        pool.query = query;
      }
    }

    it('starts and ends twelve jobs in a few statements, each with its own output and its own exact snapshot', async () => {
      const projectId = await newProject();
      const created = await Promise.all(Array.from({ length: 12 }, (_, i) => jobs.create({ ...newJobInput(projectId, null, []), input: { prompt: `job ${i}` } })));
      const ids = created.map((c) => c.job.id);
      const starts = await countingStatements(() => Promise.all(ids.map((id) => jobs.transition(id, 'running'))));
      // the first goes alone at once; the others asked meanwhile share the next statement
      expect(starts.statements).toBeLessThanOrEqual(3);
      const ends = await countingStatements(() => Promise.all(ids.map((id, i) => jobs.transition(id, 'succeeded', { output: { n: i, text: `out ${i}` } }))));
      expect(ends.statements).toBeLessThanOrEqual(3);
      for (const [i, change] of ends.value.entries()) {
        expect(change!.job).toMatchObject({ id: ids[i], status: 'succeeded', output: { n: i, text: `out ${i}` }, attempts: 1 });
        const seen = await storedAndExpected(change);
        expect(seen.stored).toEqual(seen.expected);
        expect(seen.returned).toEqual(seen.expected);
        expect((seen.stored as { input: unknown }).input).toEqual({ prompt: `job ${i}` });
      }
      for (const change of starts.value) expect(change!.event).toMatchObject({ type: 'job.started', seq: 2 });
    });

    it('creates jobs submitted at once (no idempotency key) in a few statements, each with its row and its job.created event', async () => {
      const projectId = await newProject();
      const created = await countingStatements(() => Promise.all(Array.from({ length: 10 }, (_, i) => jobs.create({ ...newJobInput(projectId, null, []), input: { prompt: `batch ${i}` } }))));
      expect(created.statements).toBeLessThanOrEqual(3);
      expect(new Set(created.value.map((c) => c.job.id)).size).toBe(10);
      for (const [i, change] of created.value.entries()) {
        const row = await prisma.job.findUniqueOrThrow({ where: { id: change.job.id } });
        expect(row).toEqual(change.job);
        expect(row.input).toEqual({ prompt: `batch ${i}` });
        const events = await prisma.jobEvent.findMany({ where: { jobId: change.job.id } });
        expect(events.map((e) => [e.id, e.type, e.seq])).toEqual([[change.event.id, 'job.created', 1]]);
        // what a single create answers: `job.created` has no webhook deliveries
        expect(change.deliveryIds).toEqual([]);
      }
    });

    it('answers each change of a batch on its own: a job in the wrong status gets null, a job with a URL goes the transaction path', async () => {
      const projectId = await newProject();
      const plain = await jobs.create(newJobInput(projectId, null, []));
      const withUrl = await jobs.create(newJobInput(projectId, 'https://hooks.example.com/g', ['job.started']));
      const alreadyRunning = await jobs.create(newJobInput(projectId, null, []));
      await jobs.transition(alreadyRunning.job.id, 'running');
      const [a, b, c, missing] = await Promise.all([
        jobs.transition(plain.job.id, 'running'),
        jobs.transition(withUrl.job.id, 'running'),
        jobs.transition(alreadyRunning.job.id, 'running'),
        jobs.transition('job_00000000000000000000000001', 'running'),
      ]);
      expect(a!.job.status).toBe('running');
      expect(b!.deliveryIds).toHaveLength(1);
      expect(c).toBeNull();
      expect(missing).toBeNull();
      expect(await prisma.jobEvent.count({ where: { jobId: alreadyRunning.job.id } })).toBe(2);
    });

    it('does not hold a batch up for a job another transaction has locked: that one waits alone', async () => {
      const projectId = await newProject();
      const created = await Promise.all([0, 1, 2].map(() => jobs.create(newJobInput(projectId, null, []))));
      const [locked, ...free] = created.map((c) => c.job.id) as [string, ...string[]];
      const holder = await poolOf(prisma)!.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [locked]);
        const lockedStart = jobs.transition(locked, 'running');
        const freeStarts = await Promise.all(free.map((id) => jobs.transition(id, 'running')));
        expect(freeStarts.map((c) => c!.job.status)).toEqual(['running', 'running']);
        expect((await prisma.job.findUniqueOrThrow({ where: { id: locked } })).status).toBe('queued');
        await holder.query('COMMIT');
        expect((await lockedStart)!.job.status).toBe('running');
      } finally {
        holder.release();
      }
    });

    it('keeps the results and reads the rows of many jobs at once, each its own', async () => {
      const projectId = await newProject();
      const created = await Promise.all(Array.from({ length: 8 }, () => jobs.create(newJobInput(projectId, null, []))));
      const ids = created.map((c) => c.job.id);
      await Promise.all(ids.slice(1).map((id) => jobs.transition(id, 'running')));
      const keeps = await countingStatements(() => Promise.all(ids.map((id, i) => jobs.keepReceivedOutput(id, { n: i }))));
      // the first job is still queued: no result is kept for it
      expect(keeps.value).toEqual(ids.map((_, i) => i > 0));
      expect(keeps.statements).toBeLessThanOrEqual(3);
      const reads = await countingStatements(() => Promise.all([...ids, 'job_00000000000000000000000002'].map((id) => jobs.findById(id))));
      expect(reads.statements).toBeLessThanOrEqual(3);
      expect(reads.value.map((job) => job?.receivedOutput ?? null)).toEqual([null, ...ids.slice(1).map((_, i) => ({ n: i + 1 })), null]);
      expect(reads.value.slice(0, -1).map((job) => job!.id)).toEqual(ids);
    });

    it('inserts the artifacts of many jobs in a few statements; one Postgres refuses fails alone', async () => {
      const projectId = await newProject();
      const created = await Promise.all([0, 1, 2, 3, 4].map(() => jobs.create(newJobInput(projectId, null, []))));
      const asked = created.map((c, i) => ({ projectId, jobId: c.job.id, kind: 'image', contentType: 'image/png', bytes: 100 + i, sha256: `s${i}`, storageKey: `grouped/${i}` }));
      // an artifact of a job that does not exist breaks the foreign key
      asked[3] = { ...asked[3]!, jobId: 'job_00000000000000000000000003' };
      const saved = await countingStatements(() => Promise.allSettled(asked.map((a) => artifacts.create(a))));
      expect(saved.value.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      for (const [i, result] of saved.value.entries()) {
        if (result.status !== 'fulfilled') continue;
        expect(result.value).toMatchObject({ jobId: asked[i]!.jobId, bytes: BigInt(100 + i), storageKey: `grouped/${i}` });
        expect(result.value.createdAt).toBeInstanceOf(Date);
        expect(await artifacts.listForJob(asked[i]!.jobId)).toEqual([result.value]);
      }
    });

    it('fails only the change Postgres refuses when a batch fails', async () => {
      const projectId = await newProject();
      const created = await Promise.all([0, 1, 2, 3].map((i) => jobs.create({ ...newJobInput(projectId, null, []), input: { prompt: `refuse ${i}` } })));
      const ids = created.map((c) => c.job.id);
      await Promise.all(ids.map((id) => jobs.transition(id, 'running')));
      const refused = ids[2]!;
      await prisma.$executeRawUnsafe(`CREATE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.id = '${refused}' AND NEW.status = 'succeeded' THEN RAISE EXCEPTION 'injected: refused'; END IF; RETURN NEW; END $$`);
      await prisma.$executeRawUnsafe('CREATE TRIGGER test_refuse_one BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_one()');
      try {
        const results = await Promise.allSettled(ids.map((id) => jobs.transition(id, 'succeeded', { output: { ok: id } })));
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
        const rows = await prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
        expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual(Object.fromEntries(ids.map((id) => [id, id === refused ? 'running' : 'succeeded'])));
      } finally {
        await prisma.$executeRawUnsafe('DROP TRIGGER test_refuse_one ON jobs');
        await prisma.$executeRawUnsafe('DROP FUNCTION test_refuse_one()');
      }
    });
  });
});
