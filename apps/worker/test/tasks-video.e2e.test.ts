import type { Project, TestStack } from '@genqueue/testing';
import { armFault, artifactBytes, getJob, jobEvents, routeCounter, sha256, submit, useStack, type StackRedis } from './helpers';
import { setTaskConfig, simTask, submissionsByKey, TASK_ENV, TERMINAL_EVENTS, waitForJob } from './tasks-helpers';

/** video.generate end to end against the simulator's video state machine (docs/gateway.md §8, §12). */
describe('video.generate tasks', () => {
  let stack: TestStack;
  let project: Project;
  let redis: StackRedis;
  useStack((started) => ({ stack, project, redis } = started), { env: TASK_ENV });

  async function run(input: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<any> {
    return stack.runJob(project.key, { type: 'video.generate', input, ...extra });
  }

  async function expectOneSubmission(prompt: string): Promise<string> {
    const counter = await submissionsByKey(stack, prompt);
    expect(counter).toMatchObject({ attempts: 1, accepted: 1 });
    return counter.task_ids[0] as string;
  }

  async function expectEndedOnce(jobId: string): Promise<string[]> {
    const types = (await jobEvents(stack, project.key, jobId)).map((e) => e.type);
    expect(types.filter((t) => TERMINAL_EVENTS.includes(t))).toHaveLength(1);
    expect(types[0]).toBe('job.created');
    return types;
  }

  it('submits once, mirrors progress, and stores the /content mp4 (sora-2 raw object)', async () => {
    const prompt = 'a red fox running through snow';
    const job = await run({ prompt, model: 'sora-2', seconds: '8', size: '1280x720' });
    expect(job.status).toBe('succeeded');
    expect(job.progress).toBe(100);
    expect(job.upstream.task_id).toMatch(/^task_[0-9A-Za-z]{32}$/);
    expect(job.upstream.status).toBe('completed');
    expect(job.output).toEqual({ video: { artifact_id: job.artifacts[0].id }, upstream_id: job.upstream.task_id });
    expect(job.artifacts).toHaveLength(1);
    expect(job.artifacts[0]).toMatchObject({ kind: 'video', content_type: 'video/mp4' });

    const taskId = await expectOneSubmission(prompt);
    expect(taskId).toBe(job.upstream.task_id);
    const task = await simTask(stack, taskId);
    expect(job.artifacts[0].sha256).toBe(task.result.sha256);
    expect(sha256(await artifactBytes(stack, project.key, job.artifacts[0].id))).toBe(task.result.sha256);
    expect(task.content_requests).toBe(1);

    const events = await jobEvents(stack, project.key, job.id);
    const progress = events.filter((e) => e.type === 'job.progress').map((e) => e.data.progress as number);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    await expectEndedOnce(job.id);
  });

  it('reads the gateway OpenAIVideo shape (veo: "unknown" first, metadata.url, ms timestamps, video_ ids)', async () => {
    const before = await setTaskConfig(stack, { video_id_style: 'upstream', video_created_at_unit: 'ms' });
    try {
      const prompt = 'a slow pan over a mountain lake';
      const job = await run({ prompt, model: 'veo-3.0-generate-001', seconds: '6', size: '1280x720' });
      expect(job.status).toBe('succeeded');
      expect(job.upstream.task_id).toMatch(/^video_[0-9a-f]{32}$/);
      const taskId = await expectOneSubmission(prompt);
      const task = await simTask(stack, taskId);
      expect(job.artifacts[0].sha256).toBe(task.result.sha256);
    } finally {
      await setTaskConfig(stack, { video_id_style: before['video_id_style'], video_created_at_unit: before['video_created_at_unit'] });
    }
  });

  it('sends input_reference as a multipart file', async () => {
    const png = await stack.sim.post('/v1/images/generations', { key: 'sk-test', body: { model: 'gpt-image-1', prompt: 'reference frame' } });
    const form = new FormData();
    form.append('purpose', 'image');
    form.append('file', new Blob([Buffer.from(png.body.data[0].b64_json, 'base64')], { type: 'image/png' }), 'ref.png');
    const file = await stack.api.post('/v1/files', { key: project.key, rawBody: form });
    expect(file.status).toBe(201);
    const prompt = 'animate this reference frame';
    const job = await run({ prompt, input_reference: { file_id: file.body.id } });
    expect(job.status).toBe('succeeded');
    await expectOneSubmission(prompt);
    const uploads = await stack.sim.get('/_sim/uploads');
    const upload = (uploads.body.uploads ?? uploads.body).find((u: any) => u.fields?.prompt === prompt);
    expect(upload.files).toEqual([expect.objectContaining({ field: 'input_reference', sha256: file.body.sha256 })]);
  });

  it('retries task_not_exist right after submit (the gateway insert lags)', async () => {
    const before = await setTaskConfig(stack, { video_insert_lag_requests: 2 });
    try {
      const prompt = 'insert lag';
      const job = await run({ prompt });
      expect(job.status).toBe('succeeded');
      const task = await simTask(stack, await expectOneSubmission(prompt));
      expect(task.status_requests).toBeGreaterThanOrEqual(3);
    } finally {
      await setTaskConfig(stack, { video_insert_lag_requests: before['video_insert_lag_requests'] });
    }
  });

  it('keeps its state through 429 and 5xx on status polls', async () => {
    await armFault(stack, { route: 'videos.status', kind: 'saturated', times: 2 });
    await armFault(stack, { route: 'videos.status', kind: 'server_error', times: 2 });
    const prompt = 'weathering a flaky gateway';
    const job = await run({ prompt });
    expect(job.status).toBe('succeeded');
    await expectOneSubmission(prompt);
    const statuses = (await routeCounter(stack, 'videos.status')).statuses;
    expect(statuses['429']).toBeGreaterThanOrEqual(2);
    await expectEndedOnce(job.id);
  });

  it.each([
    ['sim:fail', 'upstream_error'],
    ['sim:moderation', 'upstream_rejected'],
    ['sim:cancel', 'upstream_error'],
    ['sim:expired', 'upstream_error'],
  ])('maps the terminal status of %s to %s', async (marker, code) => {
    const prompt = `a failing video ${marker}`;
    const job = await run({ prompt });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe(code);
    expect(job.error.message.length).toBeGreaterThan(0);
    expect(job.artifacts).toEqual([]);
    await expectOneSubmission(prompt);
    await expectEndedOnce(job.id);
  });

  it('fails with upstream_timeout when the gateway times the task out', async () => {
    const before = await setTaskConfig(stack, { video_timeout_minutes: 1 });
    try {
      const prompt = 'never finishes sim:timeout';
      const job = await run({ prompt });
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('upstream_timeout');
      expect(job.error.message).toContain('任务超时');
      await expectOneSubmission(prompt);
    } finally {
      await setTaskConfig(stack, { video_timeout_minutes: before['video_timeout_minutes'] });
    }
  });

  it('fails with upstream_timeout at its own deadline', async () => {
    const prompt = 'past our deadline sim:timeout';
    const job = await run({ prompt }, { deadline_seconds: 2 });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_timeout', retryable: false });
    await expectOneSubmission(prompt);
  });

  it('refuses a banned prompt at submit: upstream_rejected, nothing created upstream', async () => {
    const prompt = 'something forbidden';
    const job = await run({ prompt });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('upstream_rejected');
    expect(job.upstream.task_id).toBeNull();
    expect(await submissionsByKey(stack, prompt)).toMatchObject({ attempts: 1, accepted: 0 });
  });

  it('cancels a running task: polling stops, the job says the gateway cannot cancel', async () => {
    const before = await setTaskConfig(stack, { video_duration_ms: 3_600_000 });
    try {
      const prompt = 'canceled while the gateway works';
      const created = await submit(stack, project.key, { type: 'video.generate', input: { prompt } });
      await waitForJob(stack, project.key, created.id, 'the task id to be saved', (j) => j.upstream.task_id !== null);
      const res = await stack.api.post(`/v1/jobs/${created.id}/cancel`, { key: project.key });
      expect(res.status).toBe(200);
      const job = await getJob(stack, project.key, created.id);
      expect(job.status).toBe('canceled');
      expect(job.output.note).toMatch(/no cancel route/);
      expect(job.output.upstream_id).toBe(job.upstream.task_id);
      // the parked BullMQ entry is gone: nothing will wake up and poll again
      expect(await redis.jobState('job-video', created.id)).toBe('unknown');
      await expectOneSubmission(prompt);
      await expectEndedOnce(created.id);
    } finally {
      await setTaskConfig(stack, { video_duration_ms: before['video_duration_ms'] });
    }
  });
});
