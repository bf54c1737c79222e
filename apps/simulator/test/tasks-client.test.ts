import { createHash } from 'node:crypto';
import { createUpstreamClient, MjSubmitError, parseVideoTask, type UpstreamClient } from '@genqueue/upstream';
import type { RunningSimulator } from '../src';
import { armFault, call } from './helpers';
import { advanceTo, bootFrozen, getJson, pngDataUrl, simTask, simTasks, T0 } from './task-helpers';
import { rejection } from './upstream-helpers';

/** The gateway client (`@genqueue/upstream`) against the simulator: the contract both sides must agree on. */

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let sim: RunningSimulator;
let client: UpstreamClient;

async function start(tasks: Parameters<typeof bootFrozen>[0] = {}): Promise<void> {
  sim = await bootFrozen(tasks);
  client = createUpstreamClient({ baseUrl: sim.url, apiKey: 'sk-test', taskTimeouts: { pollMs: 2_000 } });
}

afterEach(async () => {
  await client?.close();
  await sim?.close();
});

describe('videos client ↔ simulator', () => {
  beforeEach(() => start({ videoContentTtlSec: 3_600 }));

  it('sora: create, poll through every state, download the content by id; expired content is not_found', async () => {
    const created = await client.videos.create({ model: 'sora-2', prompt: 'a calico cat', seconds: 8, size: '1280x720' });
    expect(created).toMatchObject({ id: expect.stringMatching(/^task_/), status: 'pending', rawStatus: 'queued', progress: 0, createdAt: new Date(T0), otherRatios: { seconds: 8, size: 1 } });

    expect(await client.videos.get(created.id)).toMatchObject({ status: 'pending', rawStatus: 'queued', isKnownStatus: true, progress: 0, model: 'sora-2', seconds: '8', size: '1280x720' });
    const early = await rejection(client.videos.download(created.id));
    expect(early.kind).toBe('rejected');

    advanceTo(sim, 30_000);
    expect(await client.videos.get(created.id)).toMatchObject({ status: 'pending', rawStatus: 'in_progress', progress: 33 });
    advanceTo(sim, 90_000);
    const done = await client.videos.get(created.id);
    expect(done).toMatchObject({ status: 'succeeded', rawStatus: 'completed', progress: 100, completedAt: new Date(T0 + 90_000), expiresAt: new Date(T0 + 90_000 + 3_600_000) });
    expect(done.url).toBeUndefined();
    expect(done.error).toBeUndefined();

    const video = await client.videos.download(created.id);
    expect(video.contentType).toBe('video/mp4');
    expect(sha256(video.bytes)).toBe((await simTask(sim, created.id)).result.sha256);

    advanceTo(sim, 90_000 + 3_600_000);
    const expired = await rejection(client.videos.download(created.id));
    expect(expired.kind).toBe('not_found');
    expect(expired.httpStatus).toBe(502);
    expect((await simTasks(sim, `?key=${encodeURIComponent('a calico cat')}`)).by_key['a calico cat']).toMatchObject({ attempts: 1, accepted: 1 });
  });

  it('non-sora: "unknown" before the first poll is pending; the result comes from metadata.url', async () => {
    const { id } = await client.videos.create({ model: 'veo-3.0-generate-001', prompt: 'waves' });
    expect(await client.videos.get(id)).toMatchObject({ status: 'pending', rawStatus: 'unknown', isKnownStatus: true, progress: 0 });
    advanceTo(sim, 15_000);
    expect(await client.videos.get(id)).toMatchObject({ rawStatus: 'queued', progress: 20 });
    advanceTo(sim, 90_000);
    const done = await client.videos.get(id);
    expect(done).toMatchObject({ status: 'succeeded', url: `${sim.url}/v1/videos/${id}/content` });
    const bytes = await client.videos.download(done.url as string);
    expect(sha256(bytes.bytes)).toBe((await simTask(sim, id)).result.sha256);
  });

  it('multipart with an input reference file', async () => {
    const data = Buffer.from('png-bytes');
    const { id } = await client.videos.create({ model: 'sora-2', prompt: 'animate', inputReference: { filename: 'ref.png', contentType: 'image/png', data } });
    const uploads = (await (await call(sim, '/_sim/uploads')).json()) as any;
    expect(uploads.uploads[0].files[0]).toMatchObject({ field: 'input_reference', filename: 'ref.png', sha256: sha256(data) });
    expect((await getJson(sim, `/v1/video/generations/${id}`)).body.data.action).toBe('generate');
  });

  it('failures: error.message, the gateway timeout (isTimeout) and the unrecognised "expired"', async () => {
    const failed = (await client.videos.create({ model: 'sora-2', prompt: 'x sim:fail' })).id;
    const expired = (await client.videos.create({ model: 'sora-2', prompt: 'x sim:expired' })).id;
    const stalled = (await client.videos.create({ model: 'veo-3.0-generate-001', prompt: 'x sim:timeout' })).id;
    advanceTo(sim, 90_000);
    expect(await client.videos.get(failed)).toMatchObject({ status: 'failed', error: { code: 'internal_error', message: expect.any(String), isTimeout: false } });
    expect(await client.videos.get(expired)).toMatchObject({ status: 'failed', rawStatus: 'expired', error: { message: expect.stringContaining('expired'), isTimeout: false } });
    expect((await client.videos.get(stalled)).status).toBe('pending');
    advanceTo(sim, 24 * 3_600_000);
    expect(await client.videos.get(stalled)).toMatchObject({ status: 'failed', error: { message: '任务超时（1440分钟）', isTimeout: true } });
  });

  it('the /v1/video/generations wrapper parses to the same normalised task', async () => {
    const { id } = await client.videos.create({ model: 'sora-2', prompt: 'wrapped' });
    expect(parseVideoTask((await getJson(sim, `/v1/video/generations/${id}`)).body)).toMatchObject({ id, status: 'pending', rawStatus: 'NOT_START', progress: 0 });
    advanceTo(sim, 90_000);
    expect(parseVideoTask((await getJson(sim, `/v1/video/generations/${id}`)).body)).toMatchObject({
      id,
      status: 'succeeded',
      rawStatus: 'SUCCESS',
      url: `${sim.url}/v1/videos/${id}/content`,
      createdAt: new Date(T0),
    });
  });

  it('errors are classified: unknown id / insert lag → not_found, refusals → rejected, saturation → rate_limited, upstream 5xx → retryable, quota → auth', async () => {
    expect((await rejection(client.videos.get('task_nope'))).upstreamCode).toBe('task_not_exist');
    const seconds = await rejection(client.videos.create({ model: 'sora-2', prompt: 'x', seconds: 5 }));
    expect(seconds).toMatchObject({ kind: 'rejected', upstreamCode: 'invalid_value' });
    expect(await rejection(client.videos.create({ model: 'sora-2', prompt: 'x', size: '1792x1024' }))).toMatchObject({ kind: 'rejected', upstreamCode: 'invalid_size' });
    expect(await rejection(client.videos.create({ model: 'sora-2', prompt: 'forbidden' }))).toMatchObject({ kind: 'rejected', upstreamCode: 'moderation_blocked' });
    await armFault(sim, { route: 'videos.create', kind: 'saturated' });
    expect(await rejection(client.videos.create({ model: 'sora-2', prompt: 'x' }))).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
    await armFault(sim, { route: 'videos.create', kind: 'server_error', status: 502 });
    expect(await rejection(client.videos.create({ model: 'sora-2', prompt: 'x' }))).toMatchObject({ kind: 'retryable', httpStatus: 502 });
    await call(sim, '/_sim/config', { json: { quota_granted: 0 } });
    expect(await rejection(client.videos.create({ model: 'sora-2', prompt: 'x' }))).toMatchObject({ kind: 'auth', upstreamCode: 'insufficient_user_quota' });
    expect((await simTasks(sim)).totals.tasks).toBe(0);

    await client.close();
    await sim.close();
    await start({ videoInsertLagRequests: 2 });
    const { id } = await client.videos.create({ model: 'sora-2', prompt: 'lag' });
    expect((await rejection(client.videos.get(id))).kind).toBe('not_found');
    expect((await rejection(client.videos.get(id))).kind).toBe('not_found');
    expect((await client.videos.get(id)).id).toBe(id);
  });
});

describe('mj client ↔ simulator', () => {
  beforeEach(() => start());

  it('imagine: ok, then fetch maps ""/SUBMITTED/IN_PROGRESS to pending with progress, SUCCESS to succeeded with buttons', async () => {
    const submitted = await client.mj.submit('imagine', { prompt: 'a red fox', state: 'job-1' });
    expect(submitted).toMatchObject({ outcome: 'ok', code: 1, taskId: expect.stringMatching(/^\d{16}$/), description: '提交成功' });
    const id = submitted.taskId as string;
    expect(await client.mj.fetch(id)).toMatchObject({ id, status: 'pending', rawStatus: '', progress: 0, buttons: [], isPreviewImage: false, state: 'job-1' });
    advanceTo(sim, 30_000);
    const running = await client.mj.fetch(id);
    expect(running).toMatchObject({ status: 'pending', rawStatus: 'IN_PROGRESS', progress: 66, isPreviewImage: true });
    advanceTo(sim, 45_000);
    const done = await client.mj.fetch(id, { mode: 'fast' });
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, imageUrl: `${sim.url}/mj/image/${id}`, isPreviewImage: false, submitTime: new Date(T0), finishTime: new Date(T0 + 45_000) });
    expect(done.buttons).toHaveLength(9);
    expect(done.buttons[0]).toEqual({ customId: expect.stringMatching(/^MJ::JOB::upsample::1::/), label: 'U1', emoji: '', type: 2, style: 2 });

    const byId = await client.mj.downloadImage(id);
    const byUrl = await client.mj.downloadImage(done.imageUrl as string);
    expect(byId.contentType).toBe('image/png');
    expect(sha256(byId.bytes)).toBe((await simTask(sim, id)).result.sha256);
    expect(byUrl.bytes.equals(byId.bytes)).toBe(true);
    expect(await client.mj.imageSeed(id)).toMatch(/^\d+$/);

    advanceTo(sim, 45_000 + 86_400_000);
    expect((await rejection(client.mj.downloadImage(id))).kind).toBe('not_found');
  });

  it('the submit code table: 22 → ok, 23 → retry_later, 24 → MjSubmitError with the banned word, 4 / 9 / 3 → rejected', async () => {
    expect(await client.mj.submit('imagine', { prompt: 'q sim:queued' })).toMatchObject({ outcome: 'ok', code: 1, description: '排队中，前面还有2个任务', properties: { numberOfQueues: 2 } });
    const full = await client.mj.submit('imagine', { prompt: 'q sim:queue-full' });
    expect(full).toMatchObject({ outcome: 'retry_later', code: 23 });
    expect(full.taskId).toBeUndefined();

    const banned = await rejection(client.mj.submit('imagine', { prompt: 'a forbidden fox' }));
    expect(banned).toBeInstanceOf(MjSubmitError);
    expect(banned).toMatchObject({ kind: 'rejected', mjCode: 24, bannedWord: 'forbidden', promptEn: 'a forbidden fox', upstreamCode: '24' });
    expect(await rejection(client.mj.submit('imagine', { prompt: 'x sim:invalid' }))).toMatchObject({ kind: 'rejected', mjCode: 4 });
    expect(await rejection(client.mj.submit('imagine', { prompt: 'x sim:system-error' }))).toMatchObject({ kind: 'rejected', mjCode: 9 });
    expect(await rejection(client.mj.submit('blend', { base64Array: [pngDataUrl(1), 'nope'] }))).toMatchObject({ mjCode: 4 });
    expect((await simTasks(sim)).totals.tasks).toBe(1);
    // Code 3 (TAI: the related task is gone / not its button) arrives with HTTP 404.
    advanceTo(sim, 45_000);
    const parent = (await simTasks(sim)).tasks[0].id as string;
    const foreign = await rejection(client.mj.submit('action', { taskId: parent, customId: 'MJ::JOB::upsample::1::00000000-0000-4000-a000-000000000000' }));
    expect(foreign).toMatchObject({ kind: 'rejected', mjCode: 3, httpStatus: 404 });
  });

  it('gateway errors: E5 code 4 → rejected (quota_not_enough → auth), E5 code 5 → retryable, 429 code 30 → rate_limited, E1 unknown action → rejected', async () => {
    await armFault(sim, { route: 'mj.submit', kind: 'server_error' });
    expect(await rejection(client.mj.submit('imagine', { prompt: 'p' }))).toMatchObject({ kind: 'retryable', httpStatus: 400, upstreamCode: '5' });
    await armFault(sim, { route: 'mj.submit', kind: 'saturated' });
    expect(await rejection(client.mj.submit('imagine', { prompt: 'p' }))).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
    const id = (await client.mj.submit('imagine', { prompt: 'p' })).taskId as string;
    expect(await rejection(client.mj.submit('action', { taskId: id, customId: 'MJ::JOB::animate_high::1::x::SOLO' }))).toMatchObject({ kind: 'rejected', httpStatus: 400 });
    expect(await rejection(client.mj.submit('action', { taskId: id, customId: 'MJ::JOB::upsample::1::x' }))).toMatchObject({ kind: 'rejected', upstreamCode: '4' });
    expect((await rejection(client.mj.fetch('1234567890123456'))).kind).toBe('not_found');
    await call(sim, '/_sim/config', { json: { quota_granted: 0 } });
    const quota = await rejection(client.mj.submit('imagine', { prompt: 'p' }));
    // the gateway's spent quota refuses the key, not the input (it holds the lane, as a 403 does)
    expect(quota).toMatchObject({ kind: 'auth', httpStatus: 400, upstreamCode: '4' });
    expect(quota).not.toBeInstanceOf(MjSubmitError);
  });

  it('the MODAL chain imagine → action (Vary Region) → modal, with one submission each', async () => {
    const imagine = (await client.mj.submit('imagine', { prompt: 'a red fox', state: 'job-imagine' })).taskId as string;
    advanceTo(sim, 45_000);
    const u1 = (await client.mj.fetch(imagine)).buttons.find((b) => b.label === 'U1');
    const upscale = await client.mj.submit('action', { taskId: imagine, customId: u1?.customId as string, state: 'job-u1' });
    expect(upscale.outcome).toBe('ok');
    advanceTo(sim, 90_000);
    const upscaled = await client.mj.fetch(upscale.taskId as string);
    const region = upscaled.buttons.find((b) => b.label === 'Vary (Region)');
    const inpaint = await client.mj.submit('action', { taskId: upscaled.id, customId: region?.customId as string, state: 'job-inpaint' });
    expect(inpaint).toMatchObject({ outcome: 'modal', code: 21, description: 'Waiting for window confirm' });
    const modalId = inpaint.taskId as string;
    expect(await client.mj.fetch(modalId)).toMatchObject({ status: 'modal', rawStatus: 'MODAL' });

    const modal = await client.mj.submit('modal', { taskId: modalId, prompt: 'a blue fox', maskBase64: pngDataUrl(3), state: 'job-modal' });
    expect(modal).toMatchObject({ outcome: 'ok', taskId: modalId });
    advanceTo(sim, 135_000);
    expect(await client.mj.fetch(modalId)).toMatchObject({ status: 'succeeded', prompt: 'a blue fox', action: 'INPAINT' });

    const counts = await simTasks(sim);
    for (const state of ['job-imagine', 'job-u1', 'job-inpaint', 'job-modal']) expect(counts.by_state[state]).toMatchObject({ attempts: 1, accepted: 1 });
    expect(await simTask(sim, modalId)).toMatchObject({ submissions: 1, modal_submissions: 1 });
  });

  it('listByCondition batches ids, drops duplicates and unknown ids; counts one status request per task', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await client.mj.submit('imagine', { prompt: `p${i}` })).taskId as string);
    const before = ((await (await call(sim, '/_sim/counters')).json()) as any).routes['mj.list']?.received ?? 0;
    const tasks = await client.mj.listByCondition([...ids, ids[0] as string, '1234567890123456'], { batchSize: 2 });
    expect(tasks.map((t) => t.id)).toEqual(ids);
    expect(((await (await call(sim, '/_sim/counters')).json()) as any).routes['mj.list'].received - before).toBe(3);
    for (const id of ids) expect((await simTask(sim, id)).status_requests).toBe(1);
    expect(await client.mj.listByCondition([])).toEqual([]);
  });

  it('describe and blend', async () => {
    const describe = (await client.mj.submit('describe', { base64: pngDataUrl(5) })).taskId as string;
    const blend = (await client.mj.submit('blend', { base64Array: [pngDataUrl(1), pngDataUrl(2)], dimensions: 'LANDSCAPE' })).taskId as string;
    advanceTo(sim, 45_000);
    const [d, b] = await client.mj.listByCondition([describe, blend]);
    expect(d).toMatchObject({ action: 'DESCRIBE', status: 'succeeded' });
    expect(d?.prompts).toHaveLength(4);
    expect(d?.prompts?.[0]).toMatch(/^a simulated photograph/);
    expect(b).toMatchObject({ action: 'BLEND', status: 'succeeded', promptEn: '<#1> <#2> --ar 3:2' });
    await expect(client.mj.submit('blend', { base64Array: [pngDataUrl(1)] })).rejects.toThrow(TypeError);
  });

  it('failures: FAILURE, raw FAILURE with progress "", CANCEL and the 1 h timeout', async () => {
    const ids = await Promise.all(['sim:fail', 'sim:fail-raw', 'sim:cancel', 'sim:timeout'].map(async (m) => (await client.mj.submit('imagine', { prompt: `x ${m}` })).taskId as string));
    advanceTo(sim, 3_600_000);
    const [fail, raw, cancel, timeout] = await client.mj.listByCondition(ids);
    expect(fail).toMatchObject({ status: 'failed', rawStatus: 'FAILURE', progress: 100, failReason: '[Invalid parameter] Invalid value', isTimeout: false });
    expect(raw).toMatchObject({ status: 'failed', progress: 0 });
    expect(cancel).toMatchObject({ status: 'failed', rawStatus: 'CANCEL' });
    expect(timeout).toMatchObject({ status: 'failed', failReason: '上游任务超时（超过1小时）', isTimeout: true });
  });
});
