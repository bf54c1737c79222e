import { TestStack, type Project } from '@genqueue/testing';
import { armFault, artifactBytes, clearFaults, jobEvents, routeCounter, sha256, submit } from './helpers';
import { setTaskConfig, simTask, submissionsByKey, submissionsByState, TASK_ENV, TERMINAL_EVENTS, waitForJob } from './tasks-helpers';

/** Midjourney job types end to end against the simulator's MJ proxy (docs/gateway.md §9, §12.2). */
describe('Midjourney tasks', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await TestStack.start({ env: TASK_ENV });
    project = await stack.createProject();
  }, 120_000);

  afterEach(async () => {
    await clearFaults(stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const run = (type: string, input: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<any> =>
    stack.runJob(project.key, { type, input, ...extra });

  async function expectEndedOnce(jobId: string): Promise<string[]> {
    const types = (await jobEvents(stack, project.key, jobId)).map((e) => e.type);
    expect(types.filter((t) => TERMINAL_EVENTS.includes(t))).toHaveLength(1);
    return types;
  }

  async function expectImageOf(job: any): Promise<void> {
    expect(job.status).toBe('succeeded');
    expect(job.output.image.artifact_id).toBe(job.artifacts[0].id);
    expect(job.output.upstream_id).toBe(job.upstream.task_id);
    const task = await simTask(stack, job.upstream.task_id);
    expect(job.artifacts[0].sha256).toBe(task.result.sha256);
    expect(sha256(await artifactBytes(stack, project.key, job.artifacts[0].id))).toBe(task.result.sha256);
  }

  /** A PNG artifact of this project, made by an image job (a MediaSource for blend/describe). */
  async function pngArtifact(prompt: string): Promise<string> {
    const job = await run('image.generate', { prompt });
    expect(job.status).toBe('succeeded');
    return job.artifacts[0].id as string;
  }

  let imagine: any;
  let upscaled: any;

  it('imagine: one submission, the image stored, buttons with custom_id, polled through list-by-condition', async () => {
    const prompt = 'a lighthouse in a storm';
    const fetchBefore = await routeCounter(stack, 'mj.fetch');
    imagine = await run('mj.imagine', { prompt });
    await expectImageOf(imagine);
    expect(imagine.upstream.task_id).toMatch(/^\d{16}$/);
    expect(imagine.upstream.status).toBe('SUCCESS');
    expect(imagine.output.prompt_en).toContain(prompt);
    expect(imagine.output.buttons.length).toBeGreaterThan(0);
    for (const b of imagine.output.buttons) expect(b).toEqual({ custom_id: expect.stringMatching(/^MJ::/), label: expect.any(String), emoji: expect.any(String) });
    expect(await submissionsByState(stack, imagine.id)).toMatchObject({ attempts: 1, accepted: 1 });
    expect(await submissionsByKey(stack, prompt)).toMatchObject({ accepted: 1 });
    // status reads went through the batch route, never per-task fetches
    expect((await routeCounter(stack, 'mj.fetch')).received).toBe(fetchBefore.received);
    const task = await simTask(stack, imagine.upstream.task_id);
    expect(task.list_requests).toBeGreaterThan(0);
    const progress = (await jobEvents(stack, project.key, imagine.id)).filter((e) => e.type === 'job.progress');
    expect(progress.length).toBeGreaterThan(0);
    await expectEndedOnce(imagine.id);
  });

  it('action: chains from the parent job with one of its buttons (parent_id set)', async () => {
    const upscale = imagine.output.buttons.find((b: any) => b.custom_id.includes('upsample'));
    const job = await run('mj.action', { job_id: imagine.id, custom_id: upscale.custom_id });
    upscaled = job;
    await expectImageOf(job);
    expect(job.parent_id).toBe(imagine.id);
    expect(await submissionsByKey(stack, `action:${imagine.upstream.task_id}:${upscale.custom_id}`)).toMatchObject({ attempts: 1, accepted: 1 });
  });

  it('MODAL chain: imagine → upscale → action (Vary Region) waits and says so → modal → both finish', async () => {
    const inpaint = upscaled.output.buttons.find((b: any) => b.custom_id.startsWith('MJ::Inpaint'));
    expect(inpaint).toBeDefined();
    const action = await submit(stack, project.key, { type: 'mj.action', input: { job_id: upscaled.id, custom_id: inpaint.custom_id } });
    const waiting = await waitForJob(stack, project.key, action.id, 'the action to wait in MODAL', (j) => j.upstream.status === 'MODAL');
    expect(waiting.status).toBe('running');
    expect(waiting.output).toMatchObject({ status: 'waiting_for_modal', message: expect.stringContaining('mj.modal') });

    const mask = await pngArtifact('a mask for vary region');
    const modal = await run('mj.modal', { job_id: action.id, prompt: 'add a red boat', mask: { artifact_id: mask } });
    await expectImageOf(modal);
    expect(modal.parent_id).toBe(action.id);
    expect(modal.upstream.task_id).toBe(waiting.upstream.task_id);
    const done = await stack.waitFinal(project.key, action.id);
    await expectImageOf(done);
    expect(done.output.buttons).toBeDefined();
    const task = await simTask(stack, waiting.upstream.task_id);
    expect(task.submissions).toBe(1);
    expect(task.modal_submissions).toBe(1);
    await expectEndedOnce(action.id);
    await expectEndedOnce(modal.id);
  });

  it('blend: 2 images as data URLs', async () => {
    const a = await pngArtifact('blend source one');
    const b = await pngArtifact('blend source two');
    const job = await run('mj.blend', { images: [{ artifact_id: a }, { artifact_id: b }], dimensions: 'LANDSCAPE' });
    await expectImageOf(job);
    expect(await submissionsByState(stack, job.id)).toMatchObject({ attempts: 1, accepted: 1 });
  });

  it('describe: the prompts, numbering removed', async () => {
    const a = await pngArtifact('describe me');
    const job = await run('mj.describe', { image: { artifact_id: a } });
    expect(job.status).toBe('succeeded');
    expect(job.output.prompts.length).toBeGreaterThan(1);
    for (const p of job.output.prompts) expect(p).not.toMatch(/^\s*[1-9]\uFE0F?\u20E3/u);
    expect(job.output.upstream_id).toBe(job.upstream.task_id);
    expect(await submissionsByState(stack, job.id)).toMatchObject({ attempts: 1, accepted: 1 });
  });

  it('code 22 (queued, rewritten to 1) runs normally', async () => {
    const job = await run('mj.imagine', { prompt: 'queued behind others sim:queued' });
    await expectImageOf(job);
  });

  it('code 23 (queue full) creates nothing and is tried again later, until the deadline', async () => {
    const prompt = 'always full sim:queue-full';
    const job = await run('mj.imagine', { prompt }, { deadline_seconds: 2 });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('upstream_timeout');
    expect(job.upstream).toEqual({ task_id: null, status: 'QUEUE_FULL' });
    const counter = await submissionsByKey(stack, prompt);
    expect(counter.attempts).toBeGreaterThanOrEqual(2);
    expect(counter.accepted).toBe(0);
  });

  it('code 24 (banned prompt) fails as upstream_rejected naming the word', async () => {
    const job = await run('mj.imagine', { prompt: 'something forbidden here' });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'upstream_rejected', retryable: false });
    expect(job.error.message).toContain('forbidden');
  });

  it.each([
    ['sim:invalid', 'upstream_rejected'],
    ['sim:system-error', 'upstream_error'],
  ])('submit code of %s → %s', async (marker, code) => {
    const prompt = `refused ${marker}`;
    const job = await run('mj.imagine', { prompt });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe(code);
    expect(await submissionsByKey(stack, prompt)).toMatchObject({ attempts: 1, accepted: 0 });
  });

  it('rides out a 429 and a 5xx on submit without creating twice', async () => {
    await armFault(stack, { route: 'mj.submit', kind: 'rate_limit_json', times: 1 });
    await armFault(stack, { route: 'mj.submit', kind: 'server_error', times: 1 });
    const prompt = 'submit after faults';
    const job = await run('mj.imagine', { prompt });
    await expectImageOf(job);
    expect((await submissionsByKey(stack, prompt)).accepted).toBe(1);
  });

  it.each([
    ['sim:fail', 'upstream_error'],
    ['sim:fail-raw', 'upstream_error'],
    ['sim:cancel', 'upstream_error'],
  ])('terminal %s → %s', async (marker, code) => {
    const job = await run('mj.imagine', { prompt: `bad luck ${marker}` });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe(code);
    expect(job.artifacts).toEqual([]);
    await expectEndedOnce(job.id);
  });

  it('the gateway 1 h timeout → upstream_timeout', async () => {
    const before = await setTaskConfig(stack, { mj_timeout_ms: 60_000 });
    try {
      const job = await run('mj.imagine', { prompt: 'stuck forever sim:timeout' });
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('upstream_timeout');
      expect(job.error.message).toContain('上游任务超时');
    } finally {
      await setTaskConfig(stack, { mj_timeout_ms: before['mj_timeout_ms'] });
    }
  });

  it('polls many tasks in flight with far fewer list requests than tasks polled', async () => {
    const listBefore = await routeCounter(stack, 'mj.list');
    const summaryBefore = (await stack.sim.get('/_sim/tasks?family=mj&summary=1')).body.totals;
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => submit(stack, project.key, { type: 'mj.imagine', input: { prompt: `batch ${i}` } })));
    const done = await Promise.all(jobs.map((j) => stack.waitFinal(project.key, j.id)));
    expect(done.map((j) => j.status)).toEqual(jobs.map(() => 'succeeded'));
    const lists = (await routeCounter(stack, 'mj.list')).received - listBefore.received;
    const summary = (await stack.sim.get('/_sim/tasks?family=mj&summary=1')).body.totals;
    const idsPolled = summary.status_requests - summaryBefore.status_requests;
    // each list request carried several ids on average
    expect(idsPolled / lists).toBeGreaterThan(3);
    expect(lists).toBeLessThan(idsPolled);
  });
  describe('bad input is refused at submission (400 or 404, nothing stored)', () => {
    async function expectRefused(body: Record<string, unknown>, status: number, path?: string, key = project.key): Promise<void> {
      const before = await stack.api.get('/v1/jobs?limit=100', { key });
      const res = await stack.api.post('/v1/jobs', { key, body });
      expect(res.status).toBe(status);
      if (path) expect(res.body.error.details.map((d: any) => d.path)).toContain(path);
      const after = await stack.api.get('/v1/jobs?limit=100', { key });
      expect(after.body.data.map((j: any) => j.id)).toEqual(before.body.data.map((j: any) => j.id));
    }

    it('video seconds and size outside what the model takes', async () => {
      await expectRefused({ type: 'video.generate', input: { prompt: 'x', model: 'sora-2', seconds: '5' } }, 400, 'input.seconds');
      await expectRefused({ type: 'video.generate', input: { prompt: 'x', model: 'sora-2', size: '1792x1024' } }, 400, 'input.size');
      await expectRefused({ type: 'video.generate', input: { prompt: 'x', model: 'veo-3.0-generate-001', seconds: '90' } }, 400, 'input.seconds');
    });

    it('mj.blend with 1 or 6 images, a MediaSource that does not resolve', async () => {
      const one = [{ url: 'https://example.org/a.png' }];
      await expectRefused({ type: 'mj.blend', input: { images: one } }, 400, 'input.images');
      await expectRefused({ type: 'mj.blend', input: { images: Array(6).fill(one[0]) } }, 400, 'input.images');
      await expectRefused({ type: 'mj.describe', input: { image: { file_id: 'file_00000000000000000000000000' } } }, 400, 'input.image.file_id');
    });

    it('mj.action: a custom_id not among the parent buttons, a parent that is not a finished MJ image job', async () => {
      await expectRefused({ type: 'mj.action', input: { job_id: imagine.id, custom_id: 'MJ::JOB::upsample::9::nope' } }, 400, 'input.custom_id');
      const image = await run('image.generate', { prompt: 'not an mj job' });
      await expectRefused({ type: 'mj.action', input: { job_id: image.id, custom_id: imagine.output.buttons[0].custom_id } }, 400, 'input.job_id');
      const describe = (await stack.api.get('/v1/jobs?type=mj.describe&limit=1', { key: project.key })).body.data[0];
      await expectRefused({ type: 'mj.action', input: { job_id: describe.id, custom_id: 'MJ::Job::PicReader::1' } }, 400, 'input.job_id');
      const failed = (await stack.api.get('/v1/jobs?type=mj.imagine&status=failed&limit=1', { key: project.key })).body.data[0];
      await expectRefused({ type: 'mj.action', input: { job_id: failed.id, custom_id: imagine.output.buttons[0].custom_id } }, 400, 'input.job_id');
      await expectRefused({ type: 'mj.modal', input: { job_id: imagine.id, prompt: 'not waiting' } }, 400, 'input.job_id');
    });

    it("another project's job (or an unknown id) is 404", async () => {
      const other = await stack.createProject();
      await expectRefused({ type: 'mj.action', input: { job_id: imagine.id, custom_id: imagine.output.buttons[0].custom_id } }, 404, undefined, other.key);
      await expectRefused({ type: 'mj.modal', input: { job_id: imagine.id } }, 404, undefined, other.key);
      await expectRefused({ type: 'mj.action', input: { job_id: 'job_00000000000000000000000000', custom_id: 'MJ::x' } }, 404);
    });
  });
});
