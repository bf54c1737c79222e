import type { Project, TestStack } from '@genqueue/testing';
import {
  armFault,
  artifactBytes,
  counterDelta,
  crashWorker,
  expectedSha,
  getJob,
  jobEvents,
  pollUntil,
  routeCounter,
  simulatedMs,
  submit,
  useStack,
  waitForRequests,
  type StackRedis,
} from './helpers';

const IMAGE_QUEUE = 'job-image';

/** Jobs outlive what happens around them: no worker, a lost Redis entry, a killed worker, a cancel. */
describe('recovery', () => {
  let stack: TestStack;
  let redis: StackRedis;
  // A dead worker's lock lapses after 2 s and the stalled check runs every second (defaults: 30 s each).
  useStack((started) => ({ stack, redis } = started), { env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' } });

  describe('jobs submitted while no worker runs', () => {
    const jobs: Record<'ttl' | 'lost' | 'deletedFile', { project: Project; id: string }> = {} as never;
    const lostPrompt = 'a job Redis forgot';
    let deletedFileId = '';

    beforeAll(async () => {
      await stack.stopWorker();

      const ttlProject = await stack.createProject();
      const ttl = await submit(stack, ttlProject.key, { type: 'image.generate', input: { prompt: 'too late' }, ttl_seconds: 1 });
      jobs.ttl = { project: ttlProject, id: ttl.id };

      const lostProject = await stack.createProject();
      const lost = await submit(stack, lostProject.key, { type: 'image.generate', input: { prompt: lostPrompt } });
      jobs.lost = { project: lostProject, id: lost.id };
      expect(await redis.jobState(IMAGE_QUEUE, lost.id)).not.toBe('unknown');
      // the enqueue "never happened": Redis has no trace of the job, only Postgres does
      await redis.queue(IMAGE_QUEUE).remove(lost.id);
      expect(await redis.jobState(IMAGE_QUEUE, lost.id)).toBe('unknown');

      // an input file deleted between submission and run
      const fileProject = await stack.createProject();
      const png = await artifactPng(fileProject);
      const form = new FormData();
      form.append('purpose', 'image');
      form.append('file', new Blob([png], { type: 'image/png' }), 'gone.png');
      const uploaded = await stack.api.post('/v1/files', { key: fileProject.key, rawBody: form });
      expect(uploaded.status).toBe(201);
      deletedFileId = uploaded.body.id;
      const edit = await submit(stack, fileProject.key, { type: 'image.edit', input: { prompt: 'edit a deleted file', images: [{ file_id: deletedFileId }] } });
      jobs.deletedFile = { project: fileProject, id: edit.id };
      expect((await stack.api.delete(`/v1/files/${deletedFileId}`, { key: fileProject.key })).status).toBe(200);

      // let the queue TTL run out (the API holds the answer while the job stays queued)
      const held = await stack.api.get(`/v1/jobs/${ttl.id}?wait=2`, { key: ttlProject.key });
      expect(held.body.status).toBe('queued');

      await stack.startWorker();
    }, 120_000);

    /** A PNG to upload, made on the simulator directly (no job, so nothing runs while the worker is down). */
    async function artifactPng(project: Project): Promise<Buffer> {
      const res = await stack.sim.post('/v1/images/generations', { key: 'sk-test', body: { model: 'gpt-image-1', prompt: `upload for ${project.id}` } });
      expect(res.status).toBe(200);
      return Buffer.from(res.body.data[0].b64_json, 'base64');
    }

    it('expires a job whose queue TTL ran out before any worker took it', async () => {
      const job = await stack.waitFinal(jobs.ttl.project.key, jobs.ttl.id);
      expect(job.status).toBe('expired');
      expect(job.error).toMatchObject({ code: 'expired', retryable: false });
      expect(job.started_at).toBeNull();
      expect(job.attempts).toBe(0);
      const types = (await jobEvents(stack, jobs.ttl.project.key, jobs.ttl.id)).map((e) => e.type);
      expect(types).toEqual(['job.created', 'job.expired']);
    });

    it('runs a job whose enqueue was lost: the sweeper finds the row and enqueues it again', async () => {
      const job = await stack.waitFinal(jobs.lost.project.key, jobs.lost.id);
      expect(job.status).toBe('succeeded');
      expect(job.artifacts).toHaveLength(1);
      expect(job.artifacts[0].sha256).toBe(await expectedSha(stack, 'gpt-image-1', lostPrompt, 0));
      const types = (await jobEvents(stack, jobs.lost.project.key, jobs.lost.id)).map((e) => e.type);
      expect(types).toEqual(['job.created', 'job.started', 'job.succeeded']);
    }, 90_000);

    it('fails as invalid_input when an input file was deleted after submission', async () => {
      const job = await stack.waitFinal(jobs.deletedFile.project.key, jobs.deletedFile.id);
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(job.error.message).toContain(deletedFileId);
    });
  });

  it('finishes a job exactly once when its worker is killed mid-call', async () => {
    const project = await stack.createProject();
    const prompt = 'survives a crash';
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 4_000) });
    const before = await routeCounter(stack, 'images.generations');
    const created = await submit(stack, project.key, { type: 'image.generate', input: { prompt } });

    // the call is in flight on the gateway side and the job is running
    await waitForRequests(stack, 'images.generations', before, 1);
    expect((await getJob(stack, project.key, created.id)).status).toBe('running');
    await crashWorker(stack);
    expect(await redis.jobState(IMAGE_QUEUE, created.id)).toBe('active');

    await stack.startWorker();
    const job = await stack.waitFinal(project.key, created.id);
    expect(job.status).toBe('succeeded');
    expect(job.artifacts).toHaveLength(1);
    expect(job.output.images).toEqual([{ artifact_id: job.artifacts[0].id }]);
    expect(job.artifacts[0].sha256).toBe(await expectedSha(stack, 'gpt-image-1', prompt, 0));
    const bytes = await artifactBytes(stack, project.key, job.artifacts[0].id);
    expect(bytes.length).toBe(job.artifacts[0].bytes);

    const types = (await jobEvents(stack, project.key, created.id)).map((e) => e.type);
    expect(types).toEqual(['job.created', 'job.started', 'job.succeeded']);
    // one call died with the worker, the second one answered
    const seen = counterDelta(before, await routeCounter(stack, 'images.generations'));
    expect(seen).toEqual({ received: 2, statuses: { aborted: 1, '200': 1 } });
  }, 90_000);

  it('cancels a running job: the gateway call is abandoned and the job stays canceled', async () => {
    const project = await stack.createProject();
    await armFault(stack, { route: 'images.generations', kind: 'slow', times: 1, delay_ms: await simulatedMs(stack, 5_000) });
    const before = await routeCounter(stack, 'images.generations');
    const created = await submit(stack, project.key, { type: 'image.generate', input: { prompt: 'canceled midway' } });
    await waitForRequests(stack, 'images.generations', before, 1);
    expect((await getJob(stack, project.key, created.id)).status).toBe('running');

    const canceled = await stack.api.post(`/v1/jobs/${created.id}/cancel`, { key: project.key });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');

    // the worker lets go of the job (BullMQ no longer holds it active) and hung up on the gateway
    await pollUntil('the worker to let go of the canceled job', async () =>
      (await redis.jobState(IMAGE_QUEUE, created.id)) === 'active' ? undefined : true,
    );
    const seen = await pollUntil('the canceled call to end', async () => {
      const delta = counterDelta(before, await routeCounter(stack, 'images.generations'));
      return Object.keys(delta.statuses).length > 0 ? delta : undefined;
    });
    expect(seen).toEqual({ received: 1, statuses: { aborted: 1 } });

    const job = await getJob(stack, project.key, created.id);
    expect(job.status).toBe('canceled');
    expect(job.output).toBeNull();
    expect(job.artifacts).toEqual([]);
    const types = (await jobEvents(stack, project.key, created.id)).map((e) => e.type);
    expect(types).toEqual(['job.created', 'job.started', 'job.canceled']);

    // the slot is free again
    const next = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'after the cancel' } });
    expect(next.status).toBe('succeeded');
  }, 60_000);

  it('answers 409 to a cancel of a finished job', async () => {
    const project = await stack.createProject();
    const job = await stack.runJob(project.key, { type: 'image.generate', input: { prompt: 'done already' } });
    expect(job.status).toBe('succeeded');
    const res = await stack.api.post(`/v1/jobs/${job.id}/cancel`, { key: project.key });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });
});
