import type { Project, TestStack } from '@genqueue/testing';
import { OpenAiErrorSchema, OpenAiVideoSchema } from '../src/services/compat/compat-schemas';
import { countJobRows, eventually, startStack, stopStack } from './helpers';

/** OpenAI's `POST /v1/videos/{id}/remix` on the compatible video API (docs/compat.md): a video.remix job. */
describe('drop-in OpenAI video API: remix', () => {
  let stack: TestStack;
  let project: Project;

  beforeAll(async () => {
    stack = await startStack({ env: { TASK_POLL_MIN_MS: '100', TASK_POLL_MAX_MS: '400', LANE_VIDEO_RPM: '100000' } });
    project = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const create = (body: Record<string, unknown>) => stack.api.post('/v1/videos', { key: project.key, body });
  const remix = (id: string, body: unknown, key = project.key) => stack.api.post(`/v1/videos/${id}/remix`, { key, body });
  async function pollVideo(id: string): Promise<any> {
    return eventually(
      async () => (await stack.api.get(`/v1/videos/${id}`, { key: project.key })).body,
      (v: any) => v?.status === 'completed' || v?.status === 'failed',
      90_000,
      `video ${id} done`,
    );
  }

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
