import { createHash } from 'node:crypto';
import type { Project, TestStack } from '@genqueue/testing';
import { OpenAiErrorSchema, OpenAiVideoSchema } from '../src/services/compat/compat-schemas';
import { countFileRows, countJobRows, eventually, makePng, startStack, stopStack } from './helpers';

/**
 * An OpenAI video client pointed at genqueue (docs/compat.md): requests as the OpenAI SDKs and the
 * gateway's sora routes take them (docs/gateway.md §8: `POST /v1/videos` as JSON or multipart with an
 * `input_reference` file, `GET /v1/videos/{id}`, `GET /v1/videos/{id}/content`), answers read as
 * an OpenAI client reads them.
 */

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const VIDEO_KEYS = ['id', 'object', 'model', 'status', 'progress', 'created_at', 'completed_at', 'expires_at', 'prompt', 'size', 'seconds', 'quality', 'remixed_from_video_id', 'error'].sort();

describe('drop-in OpenAI video API (/v1/videos)', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await startStack({ env: { TASK_POLL_MIN_MS: '100', TASK_POLL_MAX_MS: '400', LANE_VIDEO_RPM: '100000' } });
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  /** `client.videos.retrieve(id)` until it is completed or failed, as the SDK's poll helper does. */
  async function pollVideo(id: string): Promise<any> {
    return eventually(
      async () => (await stack.api.get(`/v1/videos/${id}`, { key: project.key })).body,
      (v: any) => v?.status === 'completed' || v?.status === 'failed',
      90_000,
      `video ${id} done`,
    );
  }

  async function download(id: string, query = ''): Promise<{ status: number; type: string | null; bytes: Buffer }> {
    const res = await fetch(`${stack.apiUrl}/v1/videos/${id}/content${query}`, { headers: { authorization: `Bearer ${project.key}` } });
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  }

  async function storedSha(id: string): Promise<string> {
    const job = (await stack.api.get(`/v1/jobs/${id}`, { key: project.key })).body;
    expect(job.type).toBe('video.generate');
    expect(job.status).toBe('succeeded');
    return job.artifacts.find((a: any) => a.id === job.output.video.artifact_id).sha256;
  }

  it('JSON create → poll until completed → download the stored mp4', async () => {
    const created = await stack.api.post('/v1/videos', {
      key: project.key,
      body: { model: 'sora-2', prompt: 'A calico cat playing a piano on stage', seconds: '4', size: '1280x720' },
    });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(VIDEO_KEYS);
    expect(OpenAiVideoSchema.parse(created.body)).toEqual(created.body);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^job_[0-9A-Z]{26}$/),
      object: 'video',
      model: 'sora-2',
      status: 'queued',
      progress: 0,
      seconds: '4',
      size: '1280x720',
      completed_at: null,
      expires_at: null,
      error: null,
    });
    expect(Math.abs(created.body.created_at - Date.now() / 1000)).toBeLessThan(60);

    const done = await pollVideo(created.body.id);
    expect(done).toMatchObject({ id: created.body.id, object: 'video', status: 'completed', progress: 100, error: null, prompt: 'A calico cat playing a piano on stage' });
    expect(OpenAiVideoSchema.parse(done)).toEqual(done);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    // our stored copy is kept for the project's retention (30 days by default)
    expect(done.expires_at).toBe(done.completed_at + 30 * 86_400);

    const content = await download(created.body.id);
    expect(content.status).toBe(200);
    expect(content.type).toBe('video/mp4');
    expect(content.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(sha256(content.bytes)).toBe(await storedSha(created.body.id));
    const variant = await download(created.body.id, '?variant=video');
    expect(sha256(variant.bytes)).toBe(sha256(content.bytes));

    const thumbnail = await download(created.body.id, '?variant=thumbnail');
    expect(thumbnail.status).toBe(400);
    expect(JSON.parse(thumbnail.bytes.toString('utf8'))).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: 'variant', code: 'invalid_value' } });
  }, 180_000);

  it('multipart create with an input_reference file (as the SDK sends it) → completed → content', async () => {
    const files = await countFileRows(project.id);
    const form = new FormData();
    form.append('prompt', 'The cat from the picture starts to dance');
    form.append('model', 'sora-2');
    form.append('seconds', '4');
    form.append('size', '720x1280');
    form.append('input_reference', new Blob([makePng(16, { seed: 7 })], { type: 'image/png' }), 'reference.png');
    const created = await stack.api.post('/v1/videos', { key: project.key, rawBody: form });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'video', status: 'queued', model: 'sora-2', size: '720x1280', seconds: '4' });
    expect(await countFileRows(project.id)).toBe(files + 1);
    const job = (await stack.api.get(`/v1/jobs/${created.body.id}`, { key: project.key })).body;
    expect(job.input.input_reference).toEqual({ file_id: expect.stringMatching(/^file_/) });

    const done = await pollVideo(created.body.id);
    expect(done.status).toBe('completed');
    const content = await download(created.body.id);
    expect(content.status).toBe(200);
    expect(sha256(content.bytes)).toBe(await storedSha(created.body.id));
  }, 180_000);

  it('a failed video answers status failed with error {code, message}; content of an unfinished one is refused', async () => {
    const failing = await stack.api.post('/v1/videos', { key: project.key, body: { model: 'sora-2', prompt: 'a forbidden scene sim:moderation' } });
    expect(failing.status).toBe(200);
    const failed = await pollVideo(failing.body.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: expect.any(String), message: expect.any(String) }, completed_at: null });
    expect(failed.error.message.length).toBeGreaterThan(0);
    expect(OpenAiVideoSchema.parse(failed)).toEqual(failed);
    const refused = await download(failing.body.id);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.bytes.toString('utf8')).error).toMatchObject({ type: 'invalid_request_error', param: 'video_id' });

    const slow = await stack.api.post('/v1/videos', { key: project.key, body: { model: 'sora-2', prompt: 'a very long take sim:timeout' } });
    const running = await eventually(
      async () => (await stack.api.get(`/v1/videos/${slow.body.id}`, { key: project.key })).body,
      (v: any) => v.status === 'in_progress' && v.progress > 0,
      60_000,
      'in_progress with progress',
    );
    expect(running.progress).toBeLessThan(100);
    expect((await download(slow.body.id)).status).toBe(400);
  }, 180_000);

  it('an Idempotency-Key answers the same video; another body with it is a 409', async () => {
    const before = await countJobRows(project.id);
    const body = { model: 'sora-2', prompt: 'waves on a pebble beach', seconds: '8', size: '720x1280' };
    const headers = { 'Idempotency-Key': 'video-req-1' };
    const first = await stack.api.post('/v1/videos', { key: project.key, body, headers });
    const again = await stack.api.post('/v1/videos', { key: project.key, body, headers });
    expect(first.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await stack.api.post('/v1/videos', { key: project.key, body: { ...body, seconds: '4' }, headers });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
    expect(await countJobRows(project.id)).toBe(before + 1);
  });

  it("bad requests: a 4xx in OpenAI's error shape, and no job or file stored", async () => {
    const jobs = await countJobRows(project.id);
    const files = await countFileRows(project.id);
    const cases: Array<[unknown, string]> = [
      [{ model: 'sora-2' }, 'prompt'],
      [{ model: 'sora-2', prompt: 'x', size: '1792x1024' }, 'size'],
      [{ model: 'sora-2', prompt: 'x', seconds: '5' }, 'seconds'],
      [{ model: 'sora-2', prompt: 'x', n: 2 }, 'n'],
      [{ model: 'sora-2', prompt: 'x', input_reference: 'data:image/png;base64,SGVsbG8=' }, 'input_reference'],
    ];
    for (const [body, param] of cases) {
      const res = await stack.api.post('/v1/videos', { key: project.key, body });
      expect([param, res.status]).toEqual([param, 400]);
      expect(res.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_value' } });
      expect(OpenAiErrorSchema.parse(res.body)).toEqual(res.body);
    }
    const form = new FormData();
    form.append('prompt', 'x');
    form.append('model', 'sora-2');
    form.append('input_reference', new Blob([Buffer.from('not an image at all')], { type: 'image/png' }), 'reference.png');
    const notImage = await stack.api.post('/v1/videos', { key: project.key, rawBody: form });
    expect(notImage.status).toBe(400);
    expect(notImage.body.error.param).toBe('input_reference');
    const noBoundary = await stack.api.post('/v1/videos', { key: project.key, rawBody: 'prompt=x', headers: { 'content-type': 'multipart/form-data' } });
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('multipart') });
    const truncated = await stack.api.post('/v1/videos', {
      key: project.key,
      rawBody: '--b\r\ncontent-disposition: form-data; name="prompt"\r\n\r\nx\r\n--b\r\ncontent-disposition: form-data; name="input_reference"; filename="a.png"\r\n\r\n\x89PNG',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    expect(truncated.status).toBe(400);
    const broken = await stack.api.post('/v1/videos', { key: project.key, rawBody: '{"prompt":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.type).toBe('invalid_request_error');
    expect(await countJobRows(project.id)).toBe(jobs);
    expect(await countFileRows(project.id)).toBe(files);

    const unknown = await stack.api.get('/v1/videos/job_00000000000000000000000000', { key: project.key });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
    const list = await stack.api.get('/v1/videos', { key: project.key });
    expect(list.status).toBe(404);
    expect(OpenAiErrorSchema.parse(list.body)).toEqual(list.body);
    const noKey = await stack.api.post('/v1/videos', { body: { model: 'sora-2', prompt: 'x' } });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  });

  it('rate limits apply as on /v1/jobs (429 in OpenAI shape with Retry-After)', async () => {
    const limited = await stack.createProject({ requests_per_minute: 2 });
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await stack.api.get('/v1/videos/job_00000000000000000000000000', { key: limited.key }));
    expect(answers.map((a) => a.status)).toEqual([404, 404, 429]);
    expect(answers[2]!.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  // OpenAI's POST /v1/videos/{id}/remix: a video.remix job of the original
  const create = (body: Record<string, unknown>) => stack.api.post('/v1/videos', { key: project.key, body });
  const remix = (id: string, body: unknown, key = project.key) => stack.api.post(`/v1/videos/${id}/remix`, { key, body });

  it('remix of a completed video → a new Video on the original model, size and seconds → completed → content', async () => {
    const original = await create({ model: 'sora-2', prompt: 'a kite over the dunes', seconds: '8', size: '1280x720' });
    expect((await pollVideo(original.body.id)).status).toBe('completed');

    const remixed = await remix(original.body.id, { prompt: 'the kite over the dunes at sunset' });
    expect(remixed.status).toBe(200);
    expect(OpenAiVideoSchema.parse(remixed.body)).toEqual(remixed.body);
    expect(remixed.body).toMatchObject({
      id: expect.stringMatching(/^job_[0-9A-Z]{26}$/),
      status: 'queued',
      model: 'sora-2',
      size: '1280x720',
      seconds: '8',
      prompt: 'the kite over the dunes at sunset',
      remixed_from_video_id: original.body.id,
    });
    const done = await pollVideo(remixed.body.id);
    expect(done).toMatchObject({ status: 'completed', progress: 100, remixed_from_video_id: original.body.id, seconds: '8' });
    const job = (await stack.api.get(`/v1/jobs/${remixed.body.id}`, { key: project.key })).body;
    expect(job).toMatchObject({ type: 'video.remix', parent_id: original.body.id, input: { parent_id: original.body.id, prompt: 'the kite over the dunes at sunset' } });
    const content = await fetch(`${stack.apiUrl}/v1/videos/${remixed.body.id}/content`, { headers: { authorization: `Bearer ${project.key}` } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    expect((await content.arrayBuffer()).byteLength).toBe(job.artifacts[0].bytes);
  }, 180_000);

  it("refuses an unknown video, another project's, an unfinished one and bad bodies in OpenAI's shape, storing nothing", async () => {
    const running = await create({ model: 'sora-2', prompt: 'a very long take sim:timeout' });
    const other = await stack.createProject();
    const foreign = await stack.api.post('/v1/videos', { key: other.key, body: { model: 'sora-2', prompt: 'not yours' } });
    expect(foreign.status).toBe(200);
    const before = await countJobRows(project.id);

    const cases: Array<[string, unknown, number, string | null]> = [
      ['job_00000000000000000000000000', { prompt: 'x' }, 404, 'video_id'],
      ['not-a-job-id', { prompt: 'x' }, 404, 'video_id'],
      [foreign.body.id, { prompt: 'x' }, 404, 'video_id'],
      [running.body.id, { prompt: 'x' }, 400, 'video_id'],
      [running.body.id, {}, 400, 'prompt'],
      [running.body.id, { prompt: 'x', seconds: '8' }, 400, 'seconds'],
    ];
    for (const [id, body, status, param] of cases) {
      const res = await remix(id, body);
      expect([id, body, res.status]).toEqual([id, body, status]);
      expect(OpenAiErrorSchema.parse(res.body)).toEqual(res.body);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect(await countJobRows(project.id)).toBe(before);
  });
});
