import type { Project, TestStack } from '@genqueue/testing';
import { expectError, ISO_TIME, queuedJobIds, readSse, sseEvents, unsigned, startStack, stopStack } from './helpers';

/**
 * POST /v1/jobs/{id}/cancel and /retry. The image lane runs one job at a time here, so a job held
 * in a slow upstream call keeps every later job queued for as long as it needs.
 */
describe('job actions', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ env: { LANE_IMAGE_CONCURRENCY: '1' } });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const image = (prompt: string) => ({ type: 'image.generate', input: { prompt } });

  async function submit(key: string, body: unknown): Promise<any> {
    const res = await stack.api.post('/v1/jobs', { key, body });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
    return res.body;
  }

  async function read(key: string, id: string): Promise<any> {
    return (await stack.api.get(`/v1/jobs/${id}`, { key })).body;
  }

  async function eventTypes(key: string, id: string): Promise<string[]> {
    const res = await stack.api.get(`/v1/jobs/${id}/events`, { key, headers: { accept: 'application/json' } });
    return res.body.data.map((e: any) => e.type);
  }

  /** Starts a job whose upstream call takes ~`seconds`; resolves once it runs (the lane is then busy). */
  async function occupyLane(project: Project, seconds = 4): Promise<any> {
    const fault = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'slow', times: 1, delay_ms: seconds * 60_000 } });
    expect(fault.status).toBe(201);
    const blocker = await submit(project.key, image('the blocker'));
    const stream = await readSse(`${stack.apiUrl}/v1/jobs/${blocker.id}/events`, {
      key: project.key,
      timeoutMs: 20_000,
      stopWhen: (messages) => messages.some((m) => m.event === 'job.started'),
    });
    expect(sseEvents(stream).map((e) => e.event)).toContain('job.started');
    return blocker;
  }

  /** Runs one more job through the single-slot lane: when it is done, every earlier run has ended. */
  async function drainLane(project: Project): Promise<void> {
    const probe = await stack.runJob(project.key, image('the probe'));
    expect(probe.status).toBe('succeeded');
  }

  describe('cancel', () => {
    it('cancels a queued job: 200, removed from the queue, never started', async () => {
      const project = await stack.createProject();
      const blocker = await occupyLane(project);
      const job = await submit(project.key, image('waiting in line'));
      expect((await queuedJobIds(stack)).includes(job.id)).toBe(true);

      const res = await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: job.id, object: 'job', status: 'canceled', started_at: null, attempts: 0 });
      expect(res.body.finished_at).toMatch(ISO_TIME);
      expect((await queuedJobIds(stack)).includes(job.id)).toBe(false);

      expect((await stack.waitFinal(project.key, blocker.id)).status).toBe('succeeded');
      await drainLane(project);
      expect(await read(project.key, job.id)).toMatchObject({ status: 'canceled', attempts: 0, started_at: null, output: null });
      expect(await eventTypes(project.key, job.id)).toEqual(['job.created', 'job.canceled']);
    });

    it('cancels a running job, and the run that ends later does not revive it', async () => {
      const project = await stack.createProject();
      const blocker = await occupyLane(project);
      const res = await stack.api.post(`/v1/jobs/${blocker.id}/cancel`, { key: project.key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'canceled', attempts: 1 });
      expect(res.body.started_at).toMatch(ISO_TIME);

      await drainLane(project);
      const after = await read(project.key, blocker.id);
      expect(after).toMatchObject({ status: 'canceled', output: null, error: null });
      expect(await eventTypes(project.key, blocker.id)).toEqual(['job.created', 'job.started', 'job.canceled']);
    });

    it('answers 409 for a final job and changes nothing', async () => {
      const project = await stack.createProject();
      const succeeded = await stack.runJob(project.key, image('done already'));
      const failed = await stack.runJob(project.key, image('a forbidden picture'));
      expect([succeeded.status, failed.status]).toEqual(['succeeded', 'failed']);
      for (const job of [succeeded, failed]) {
        expectError(await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key }), 409, 'conflict');
        expect(unsigned(await read(project.key, job.id))).toEqual(unsigned(job));
      }
    });

    it('answers 409 to the second of two cancels', async () => {
      const project = await stack.createProject();
      const blocker = await occupyLane(project);
      const job = await submit(project.key, image('canceled twice'));
      const answers = await Promise.all([
        stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key }),
        stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key }),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expectError(await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key }), 409, 'conflict');
      expect(await eventTypes(project.key, job.id)).toEqual(['job.created', 'job.canceled']);
      await stack.waitFinal(project.key, blocker.id);
    });
  });

  describe('retry', () => {
    it('runs a failed job again as a new attempt of the same job', async () => {
      const project = await stack.createProject();
      const fault = await stack.sim.post('/_sim/faults', { body: { route: 'images.generations', kind: 'rejected', times: 1 } });
      expect(fault.status).toBe(201);
      const failed = await stack.runJob(project.key, image('refused once'));
      expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'upstream_rejected', retryable: false } });

      const res = await stack.api.post(`/v1/jobs/${failed.id}/retry`, { key: project.key });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: failed.id, status: 'queued', error: null, output: null, started_at: null, finished_at: null, artifacts: [] });
      expect(res.body.created_at).toBe(failed.created_at);

      const done = await stack.waitFinal(project.key, failed.id);
      expect(done).toMatchObject({ id: failed.id, status: 'succeeded', attempts: 2, error: null });
      expect(done.artifacts).toHaveLength(1);
      const stream = await readSse(`${stack.apiUrl}/v1/jobs/${failed.id}/events`, { key: project.key, timeoutMs: 10_000 });
      expect(stream.closedByServer).toBe(true);
      expect(sseEvents(stream).map((e) => `${e.id} ${e.event}`)).toEqual([
        '1 job.created',
        '2 job.started',
        '3 job.failed',
        '4 job.retried',
        '5 job.started',
        '6 job.succeeded',
      ]);
    });

    it('runs a canceled job again', async () => {
      const project = await stack.createProject();
      const blocker = await occupyLane(project);
      const job = await submit(project.key, image('canceled then retried'));
      expect((await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key })).status).toBe(200);
      const res = await stack.api.post(`/v1/jobs/${job.id}/retry`, { key: project.key });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'queued', finished_at: null });
      await stack.waitFinal(project.key, blocker.id);
      const done = await stack.waitFinal(project.key, job.id);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await eventTypes(project.key, job.id)).toEqual(['job.created', 'job.canceled', 'job.retried', 'job.started', 'job.succeeded']);
    });

    it('answers 409 for a succeeded, a queued and a running job, changing nothing', async () => {
      const project = await stack.createProject();
      const succeeded = await stack.runJob(project.key, image('fine as it is'));
      expectError(await stack.api.post(`/v1/jobs/${succeeded.id}/retry`, { key: project.key }), 409, 'conflict');
      expect(unsigned(await read(project.key, succeeded.id))).toEqual(unsigned(succeeded));

      const running = await occupyLane(project);
      const queued = await submit(project.key, image('still queued'));
      expectError(await stack.api.post(`/v1/jobs/${running.id}/retry`, { key: project.key }), 409, 'conflict');
      expectError(await stack.api.post(`/v1/jobs/${queued.id}/retry`, { key: project.key }), 409, 'conflict');
      expect(await eventTypes(project.key, queued.id)).toEqual(['job.created']);
      expect((await stack.waitFinal(project.key, queued.id)).status).toBe('succeeded');
      expect((await read(project.key, running.id)).status).toBe('succeeded');
    });
  });

  describe.each(['cancel', 'retry'])('%s of a job the key cannot see', (action) => {
    it('answers 404 for another project’s job, an unknown id and a malformed id', async () => {
      const owner = await stack.createProject();
      const other = await stack.createProject();
      const job = await stack.runJob(owner.key, image(action === 'retry' ? 'a forbidden thing' : 'mine'));
      expectError(await stack.api.post(`/v1/jobs/${job.id}/${action}`, { key: other.key }), 404, 'not_found');
      expectError(await stack.api.post(`/v1/jobs/job_00000000000000000000000000/${action}`, { key: owner.key }), 404, 'not_found');
      expectError(await stack.api.post(`/v1/jobs/nope/${action}`, { key: owner.key }), 404, 'not_found');
      expect(unsigned(await read(owner.key, job.id))).toEqual(unsigned(job));
    });
  });
});
