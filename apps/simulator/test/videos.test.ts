import { createHash } from 'node:crypto';
import { renderMp4, videoSeed, type RunningSimulator } from '../src';
import { AUTH, armFault, call } from './helpers';
import { advance, advanceTo, bootFrozen, getJson, postJson, simTask, simTasks, T0, T0_SEC } from './task-helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const TASK_ID = /^task_[0-9A-Za-z]{32}$/;

let sim: RunningSimulator;
afterEach(() => sim?.close());

const create = (body: Record<string, unknown>) => postJson(sim, '/v1/videos', body);
const status = (id: string) => getJson(sim, `/v1/videos/${id}`);
const wrapper = (id: string) => getJson(sim, `/v1/video/generations/${id}`);

describe('POST /v1/videos', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('answers the re-serialised sora object with the public id in id and task_id, plus the ratios header', async () => {
    const res = await create({ model: 'sora-2', prompt: 'A calico cat playing a piano', seconds: '8', size: '1280x720' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(TASK_ID),
      task_id: res.body.id,
      object: 'video',
      model: 'sora-2',
      status: 'queued',
      progress: 0,
      created_at: T0_SEC,
      seconds: '8',
      size: '1280x720',
    });
    expect(res.body).not.toHaveProperty('prompt');
    expect(JSON.parse(res.headers.get('x-new-api-other-ratios') ?? '')).toEqual({ seconds: 8, size: 1 });
  });

  it('non-sora channels answer the gateway-made OpenAIVideo; big sora-2-pro sizes bill a 1.666667 size ratio', async () => {
    const veo = await create({ model: 'veo-3.0-generate-001', prompt: 'waves', seconds: 6 });
    expect(veo.body).toEqual({ id: expect.stringMatching(TASK_ID), task_id: veo.body.id, object: 'video', model: 'veo-3.0-generate-001', status: 'queued', progress: 0, created_at: T0_SEC });
    const pro = await create({ model: 'sora-2-pro', prompt: 'waves', seconds: '12', size: '1792x1024' });
    expect(JSON.parse(pro.headers.get('x-new-api-other-ratios') ?? '')).toEqual({ seconds: 12, size: 1.666667 });
  });

  it('old builds return the upstream id (video_…); created_at may be milliseconds', async () => {
    await sim.close();
    sim = await bootFrozen({ videoIdStyle: 'upstream', videoCreatedAtUnit: 'ms' });
    const res = await create({ model: 'sora-2', prompt: 'x' });
    expect(res.body.id).toMatch(/^video_[0-9a-f]{32}$/);
    expect(res.body.created_at).toBe(T0);
    expect((await status(res.body.id)).body.created_at).toBe(T0);
  });

  it('multipart with an input_reference file: recorded, action generate, the file feeds the media seed', async () => {
    const image = Buffer.from('reference-image-bytes');
    const form = new FormData();
    form.append('model', 'sora-2');
    form.append('prompt', 'animate this');
    form.append('seconds', '4');
    form.append('input_reference', new Blob([image], { type: 'image/png' }), 'ref.png');
    const res = await call(sim, '/v1/videos', { method: 'POST', headers: AUTH, body: form });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const uploads = (await (await call(sim, '/_sim/uploads')).json()) as any;
    expect(uploads.uploads[0]).toMatchObject({
      route: 'videos.create',
      fields: { model: 'sora-2', prompt: 'animate this', seconds: '4' },
      files: [{ field: 'input_reference', filename: 'ref.png', content_type: 'image/png', bytes: image.length, sha256: sha256(image) }],
    });
    expect((await wrapper(id)).body.data.action).toBe('generate');
    advanceTo(sim, 90_000);
    const content = await call(sim, `/v1/videos/${id}/content`, { headers: AUTH });
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(renderMp4(videoSeed('sora-2', 'animate this', '4', '720x1280', [sha256(image)]))));
  });

  it('refuses bad requests with the gateway shapes and creates nothing', async () => {
    const missingModel = await create({ prompt: 'x' });
    expect(missingModel.status).toBe(400);
    expect(missingModel.body.error).toEqual({ message: expect.stringMatching(/^Model name not specified.*\(request id: .+\)$/), type: 'new_api_error', code: '' });
    expect((await create({ model: 'nope', prompt: 'x' })).status).toBe(503);
    expect(await create({ model: 'sora-2', prompt: '  ' })).toMatchObject({ status: 400, body: { code: 'invalid_request', message: 'prompt is required', data: null } });
    expect(await create({ model: 'sora-2', prompt: 'x', size: '1792x1024' })).toMatchObject({ status: 400, body: { code: 'invalid_size', message: 'sora-2 size is invalid', data: null } });

    const seconds = await create({ model: 'sora-2', prompt: 'x', seconds: '5' });
    expect(seconds.status).toBe(400);
    expect(seconds.body.code).toBe('fail_to_fetch_task');
    expect(JSON.parse(seconds.body.message)).toEqual({ error: { message: expect.stringContaining("'5'"), type: 'invalid_request_error', param: 'seconds', code: 'invalid_value' } });

    const banned = await create({ model: 'sora-2', prompt: 'something forbidden' });
    expect(banned.status).toBe(400);
    expect(JSON.parse(banned.body.message).error.code).toBe('moderation_blocked');

    const summary = await simTasks(sim);
    expect(summary.totals.tasks).toBe(0);
    expect(summary.by_key['something forbidden']).toEqual({ attempts: 1, accepted: 0, task_ids: [] });
  });

  it('charges at submit and answers 403 E3 insufficient_user_quota when the balance is short', async () => {
    await call(sim, '/_sim/config', { json: { quota_granted: 300_000 } });
    expect((await create({ model: 'sora-2', prompt: 'x', seconds: '4' })).status).toBe(200); // 200 000
    const res = await create({ model: 'sora-2', prompt: 'y', seconds: '4' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'insufficient_user_quota', data: null });
  });
});

describe('GET /v1/videos/{id}: state machine on the gateway poll tick', () => {
  beforeEach(async () => {
    sim = await bootFrozen(); // tick 15 s, video 90 s
  });

  it('sora: the raw OpenAI object with nulls and no URL, changing only on poll ticks', async () => {
    const { id } = (await create({ model: 'sora-2', prompt: 'A calico cat', seconds: '8', size: '1280x720' })).body;
    const first = await status(id);
    expect(first.body).toEqual({
      id,
      object: 'video',
      created_at: T0_SEC,
      status: 'queued',
      completed_at: null,
      error: null,
      expires_at: null,
      model: 'sora-2',
      progress: 0,
      prompt: 'A calico cat',
      remixed_from_video_id: null,
      seconds: '8',
      size: '1280x720',
    });
    expect((await wrapper(id)).body.data).toMatchObject({ status: 'NOT_START', progress: '0%' });

    advanceTo(sim, 14_999);
    expect((await wrapper(id)).body.data.status).toBe('NOT_START');
    advanceTo(sim, 15_000);
    expect((await wrapper(id)).body.data).toMatchObject({ status: 'QUEUED', progress: '20%' });
    expect((await status(id)).body).toMatchObject({ status: 'queued', progress: 0 });

    advanceTo(sim, 30_000);
    expect((await status(id)).body).toMatchObject({ status: 'in_progress', progress: 33, completed_at: null });
    advanceTo(sim, 59_999); // still the 45 s poll
    expect((await status(id)).body.progress).toBe(50);

    advanceTo(sim, 90_000);
    const done = await status(id);
    expect(done.body).toMatchObject({ status: 'completed', progress: 100, error: null, completed_at: T0_SEC + 90, expires_at: T0_SEC + 90 + 86_400 });
    expect(done.body).not.toHaveProperty('metadata');
    expect((await wrapper(id)).body).toMatchObject({
      code: 'success',
      message: '',
      data: { task_id: id, platform: '55', status: 'SUCCESS', progress: '100%', fail_reason: '', result_url: `${sim.url}/v1/videos/${id}/content`, start_time: T0_SEC + 30, finish_time: T0_SEC + 90 },
    });
  });

  it('non-sora: status "unknown" before the first poll, metadata.url once done, completed_at even while running', async () => {
    const { id } = (await create({ model: 'veo-3.0-generate-001', prompt: 'waves' })).body;
    expect((await status(id)).body).toEqual({
      id,
      task_id: id,
      object: 'video',
      model: 'veo-3.0-generate-001',
      status: 'unknown',
      progress: 0,
      created_at: T0_SEC,
      completed_at: T0_SEC,
      metadata: { url: '' },
    });
    advanceTo(sim, 15_000);
    expect((await status(id)).body).toMatchObject({ status: 'queued', progress: 20, completed_at: T0_SEC + 15 });
    advanceTo(sim, 45_000);
    expect((await status(id)).body).toMatchObject({ status: 'in_progress', progress: 50, metadata: { url: '' } });
    advanceTo(sim, 90_000);
    expect((await status(id)).body).toMatchObject({ status: 'completed', progress: 100, metadata: { url: `${sim.url}/v1/videos/${id}/content` } });
  });

  it('unknown ids are 400 task_not_exist; with insert lag the first reads of a fresh task are too', async () => {
    expect(await status('task_nope')).toMatchObject({ status: 400, body: { code: 'task_not_exist', message: 'task_not_exist', data: null } });
    await sim.close();
    sim = await bootFrozen({ videoInsertLagRequests: 2 });
    const { id } = (await create({ model: 'sora-2', prompt: 'x' })).body;
    expect((await status(id)).status).toBe(400);
    expect((await status(id)).status).toBe(400);
    expect((await status(id)).status).toBe(200);
    expect((await simTask(sim, id)).status_requests).toBe(3);
  });

  it('uses per-task spacing inside a poll cycle when configured', async () => {
    await sim.close();
    sim = await bootFrozen({ pollSpacingMs: 1_000 });
    const a = (await create({ model: 'veo-3.0-generate-001', prompt: 'a' })).body.id;
    const b = (await create({ model: 'veo-3.0-generate-001', prompt: 'b' })).body.id;
    // a is polled at 15 s, 30 s, …; b one second later in each cycle (1 s, 16 s, …).
    advanceTo(sim, 1_000);
    expect((await status(a)).body.status).toBe('unknown');
    expect((await status(b)).body.status).toBe('queued');
    advanceTo(sim, 15_000);
    expect((await status(a)).body.status).toBe('queued');
    expect((await status(b)).body.status).toBe('queued');
    advanceTo(sim, 16_000);
    expect((await status(b)).body.status).toBe('in_progress');
  });
});

describe('failure paths', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('sim:fail → failed with error.message halfway; the charge is refunded', async () => {
    const before = (await (await call(sim, '/_sim/state')).json()) as any;
    const { id } = (await create({ model: 'sora-2', prompt: 'boom sim:fail', seconds: '4' })).body;
    expect(((await (await call(sim, '/_sim/state')).json()) as any).balance.used).toBe(before.balance.used + 200_000);
    advanceTo(sim, 45_000);
    const failed = await status(id);
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'internal_error', message: expect.any(String) }, completed_at: null });
    expect((await wrapper(id)).body.data).toMatchObject({ status: 'FAILURE', progress: '100%', fail_reason: failed.body.error.message });
    expect(((await (await call(sim, '/_sim/state')).json()) as any).balance.used).toBe(before.balance.used);
    expect((await simTask(sim, id)).refunded).toBe(true);
  });

  it('sim:moderation, sim:cancel and the unrecognised sim:expired', async () => {
    const moderated = (await create({ model: 'sora-2', prompt: 'm sim:moderation' })).body.id;
    const cancelled = (await create({ model: 'sora-2', prompt: 'c sim:cancel' })).body.id;
    const expired = (await create({ model: 'sora-2', prompt: 'e sim:expired' })).body.id;
    const veo = (await create({ model: 'veo-3.0-generate-001', prompt: 'v sim:expired' })).body.id;
    advanceTo(sim, 90_000);
    expect((await status(moderated)).body).toMatchObject({ status: 'failed', error: { code: 'moderation_blocked' } });
    expect((await status(cancelled)).body).toMatchObject({ status: 'cancelled', error: null });
    expect((await wrapper(cancelled)).body.data).toMatchObject({ status: 'FAILURE', fail_reason: 'task failed' });
    expect((await status(expired)).body).toMatchObject({ status: 'expired', error: null });
    expect((await wrapper(expired)).body.data).toMatchObject({ status: 'FAILURE', fail_reason: 'upstream returned unrecognized message' });
    expect((await status(veo)).body).toMatchObject({ status: 'failed', progress: 100, error: { message: 'upstream returned unrecognized message', code: '' } });
  });

  it('sim:timeout stalls at 50 % until the 24 h sweep fails it with the gateway text', async () => {
    const { id } = (await create({ model: 'sora-2', prompt: 'slow sim:timeout' })).body;
    const veo = (await create({ model: 'veo-3.0-generate-001', prompt: 'slow sim:timeout' })).body.id;
    advanceTo(sim, 6 * 3_600_000);
    expect((await status(id)).body).toMatchObject({ status: 'in_progress', progress: 50 });
    advanceTo(sim, 24 * 3_600_000);
    expect((await status(id)).body).toMatchObject({ status: 'failed', error: { message: '任务超时（1440分钟）' } });
    expect((await status(veo)).body).toMatchObject({ status: 'failed', error: { message: '任务超时（1440分钟）' } });
    expect((await call(sim, `/v1/videos/${id}/content`, { headers: AUTH })).status).toBe(400);
  });

  it('soraStaleAfterTimeout: the sora GET keeps the last raw status while /content says FAILURE', async () => {
    await sim.close();
    sim = await bootFrozen({ soraStaleAfterTimeout: true, videoTimeoutMinutes: 60 });
    const { id } = (await create({ model: 'sora-2', prompt: 'slow sim:timeout' })).body;
    advanceTo(sim, 3_600_000);
    expect((await status(id)).body).toMatchObject({ status: 'in_progress', progress: 50 });
    expect((await wrapper(id)).body.data).toMatchObject({ status: 'FAILURE', fail_reason: '任务超时（60分钟）' });
    const content = await getJson(sim, `/v1/videos/${id}/content`);
    expect(content.body.error.message).toBe('Task is not completed yet, current status: FAILURE');
  });
});

describe('GET /v1/videos/{id}/content', () => {
  beforeEach(async () => {
    sim = await bootFrozen({ videoContentTtlSec: 3_600 });
  });

  it('400 E4 before completion, deterministic mp4 after (variant ignored), 502 once expired, 404 unknown', async () => {
    const { id } = (await create({ model: 'sora-2', prompt: 'clip', seconds: '8', size: '1280x720' })).body;
    const early = await getJson(sim, `/v1/videos/${id}/content`);
    expect(early).toMatchObject({ status: 400, body: { error: { message: 'Task is not completed yet, current status: NOT_START', type: 'invalid_request_error' } } });
    expect(early.body.error).not.toHaveProperty('code');

    advanceTo(sim, 90_000);
    const res = await call(sim, `/v1/videos/${id}/content?variant=thumbnail`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(sha256(bytes)).toBe((await simTask(sim, id)).result.sha256);

    advance(sim, 3_600_000);
    expect(await getJson(sim, `/v1/videos/${id}/content`)).toMatchObject({ status: 502, body: { error: { message: 'Upstream service returned status 403', type: 'server_error' } } });
    expect(await getJson(sim, '/v1/videos/task_nope/content')).toMatchObject({ status: 404, body: { error: { message: 'Task not found', type: 'invalid_request_error' } } });
    expect((await simTask(sim, id)).content_requests).toBe(3);
  });
});

describe('faults and counters', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('submit faults speak E3: saturated / rate_limit_json → 429 saturation text, server_error → fail_to_fetch_task with the raw body', async () => {
    await armFault(sim, { route: 'videos.create', kind: 'saturated' });
    await armFault(sim, { route: 'videos', kind: 'rate_limit_json' });
    await armFault(sim, { route: 'videos.create', kind: 'server_error', status: 503 });
    await armFault(sim, { route: 'videos.create', kind: 'rejected' });
    await armFault(sim, { route: 'videos.create', kind: 'quota' });
    const saturated = await create({ model: 'sora-2', prompt: 'p' });
    expect(saturated).toMatchObject({ status: 429, body: { code: 'fail_to_fetch_task', message: '当前分组上游负载已饱和，请稍后再试', data: null } });
    expect((await create({ model: 'sora-2', prompt: 'p' })).status).toBe(429);
    const server = await create({ model: 'sora-2', prompt: 'p' });
    expect(server.status).toBe(503);
    expect(JSON.parse(server.body.message)).toMatchObject({ error: { type: 'server_error', code: null } });
    const rejected = await create({ model: 'sora-2', prompt: 'p' });
    expect(rejected.status).toBe(400);
    expect(JSON.parse(rejected.body.message).error.code).toBe('content_policy_violation');
    expect(await create({ model: 'sora-2', prompt: 'p' })).toMatchObject({ status: 403, body: { code: 'insufficient_user_quota', data: null } });
    expect((await create({ model: 'sora-2', prompt: 'p' })).status).toBe(200);
    // Faulted requests never reached the upstream: one attempt, one task.
    expect((await simTasks(sim)).by_key['p']).toEqual({ attempts: 1, accepted: 1, task_ids: [expect.stringMatching(TASK_ID)] });
  });

  it('status faults: empty 429 and the saturation kind on videos.status', async () => {
    const { id } = (await create({ model: 'sora-2', prompt: 'p' })).body;
    await armFault(sim, { route: 'videos.status', kind: 'rate_limit_empty' });
    await armFault(sim, { route: 'videos.status', kind: 'saturated' });
    const empty = await call(sim, `/v1/videos/${id}`, { headers: AUTH });
    expect(empty.status).toBe(429);
    expect(await empty.text()).toBe('');
    expect(await status(id)).toMatchObject({ status: 429, body: { code: 'fail_to_fetch_task', message: '当前分组上游负载已饱和，请稍后再试' } });
    expect((await status(id)).status).toBe(200);
  });

  it('/_sim/tasks counts submissions per prompt and status requests per task; filters by family and key', async () => {
    const a = (await create({ model: 'sora-2', prompt: 'job-a' })).body.id;
    await create({ model: 'sora-2', prompt: 'job-b' });
    await status(a);
    await wrapper(a);
    const all = await simTasks(sim, '?family=video');
    expect(all.totals).toMatchObject({ tasks: 2, submissions: 2, status_requests: 2 });
    const one = await simTasks(sim, '?key=job-a');
    expect(one.tasks).toEqual([expect.objectContaining({ id: a, family: 'video', submissions: 1, status_requests: 2, status: 'NOT_START', progress: '0%' })]);
    expect(one.by_key).toEqual({ 'job-a': { attempts: 1, accepted: 1, task_ids: [a] } });
    const detail = await simTask(sim, a);
    expect(detail).toMatchObject({ id: a, outcome: 'success', raw_status: 'queued', terminal_at_ms: T0 + 90_000, result: { content_type: 'video/mp4' } });
    expect((await call(sim, '/_sim/tasks/nope')).status).toBe(404);
    await call(sim, '/_sim/reset', { method: 'POST' });
    expect((await simTasks(sim)).totals.tasks).toBe(0);
  });

  it('/_sim/tasks/config reads and patches the task options (new tasks only)', async () => {
    const initial = (await (await call(sim, '/_sim/tasks/config')).json()) as any;
    expect(initial).toMatchObject({ poll_tick_ms: 15_000, video_duration_ms: 90_000, mj_duration_ms: 45_000, video_id_style: 'task' });
    const patched = await call(sim, '/_sim/tasks/config', { json: { video_duration_ms: 30_000, video_id_style: 'upstream' } });
    expect(((await patched.json()) as any).video_duration_ms).toBe(30_000);
    expect((await call(sim, '/_sim/tasks/config', { json: { video_duration_ms: -1 } })).status).toBe(400);
    expect((await call(sim, '/_sim/tasks/config', { json: { nope: 1 } })).status).toBe(400);
    const { id } = (await create({ model: 'sora-2', prompt: 'short' })).body;
    expect(id).toMatch(/^video_/);
    advanceTo(sim, 30_000);
    expect((await status(id)).body.status).toBe('completed');
  });
});

describe('fast time', () => {
  it('a default video finishes in under two real seconds, computed lazily from the tick grid', async () => {
    sim = await bootFrozen({}, { fastTime: true });
    const { id } = (await create({ model: 'sora-2', prompt: 'fast' })).body;
    const detail = await simTask(sim, id);
    expect(detail.terminal_at_ms - T0).toBeLessThan(2_000);
    advanceTo(sim, detail.terminal_at_ms - T0);
    expect((await status(id)).body.status).toBe('completed');
  });
});
