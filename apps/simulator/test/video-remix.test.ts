import { type RunningSimulator } from '../src';
import { armFault, call } from './helpers';
import { advanceTo, bootFrozen, getJson, postJson, simTask, simTasks, T0_SEC } from './task-helpers';

const TASK_ID = /^task_[0-9A-Za-z]{32}$/;

let sim: RunningSimulator;
afterEach(() => sim?.close());
beforeEach(async () => {
  sim = await bootFrozen(); // tick 15 s, video 90 s
});

const create = (body: Record<string, unknown>) => postJson(sim, '/v1/videos', body);
const remix = (id: string, body: Record<string, unknown>) => postJson(sim, `/v1/videos/${id}/remix`, body);
const status = (id: string) => getJson(sim, `/v1/videos/${id}`);
const balanceUsed = async (): Promise<number> => ((await (await call(sim, '/_sim/state')).json()) as any).balance.used;

describe('POST /v1/videos/{id}/remix', () => {
  it('makes a new task on the original model, seconds and size, answered and billed like a submit, with its own video', async () => {
    const original = (await create({ model: 'sora-2-pro', prompt: 'a harbour at dawn', seconds: '8', size: '1792x1024' })).body.id;
    advanceTo(sim, 90_000);
    expect((await status(original)).body.status).toBe('completed');
    const used = await balanceUsed();

    const res = await remix(original, { prompt: 'the same harbour at night' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.stringMatching(TASK_ID), task_id: res.body.id, object: 'video', model: 'sora-2-pro', status: 'queued', progress: 0, created_at: T0_SEC + 90, seconds: '8', size: '1792x1024' });
    expect(res.body.id).not.toBe(original);
    expect(JSON.parse(res.headers.get('x-new-api-other-ratios') ?? '')).toEqual({ seconds: 8, size: 1.666667 });
    expect(await balanceUsed()).toBeGreaterThan(used);

    const remixed = res.body.id as string;
    expect((await status(remixed)).body).toMatchObject({ status: 'queued', prompt: 'the same harbour at night', remixed_from_video_id: original });
    expect((await status(original)).body.remixed_from_video_id).toBeNull();
    advanceTo(sim, 180_000);
    expect((await status(remixed)).body.status).toBe('completed');
    const [a, b] = await Promise.all([simTask(sim, original), simTask(sim, remixed)]);
    expect(b).toMatchObject({ action: 'remix', submissions: 1 });
    expect(b.result.sha256).not.toBe(a.result.sha256);
  });

  it('follows the video status machine: a remix that fails upstream is refunded', async () => {
    const original = (await create({ model: 'sora-2', prompt: 'calm sea' })).body.id;
    const used = await balanceUsed();
    const remixed = (await remix(original, { prompt: 'stormy sea sim:fail' })).body.id;
    expect(await balanceUsed()).toBe(used + 200_000);
    advanceTo(sim, 45_000);
    expect((await status(remixed)).body).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    expect(await balanceUsed()).toBe(used);
  });

  it('refuses an unknown original (400 E3 task_not_exist), an empty prompt and a banned one, and creates nothing', async () => {
    const original = (await create({ model: 'sora-2', prompt: 'calm sea' })).body.id;
    expect(await remix('task_nope', { prompt: 'p' })).toMatchObject({ status: 400, body: { code: 'task_not_exist', message: 'task_not_exist', data: null } });
    expect(await remix(original, { prompt: '  ' })).toMatchObject({ status: 400, body: { code: 'invalid_request', data: null } });
    await call(sim, '/_sim/config', { json: { banned_words: ['forbidden'] } });
    const banned = await remix(original, { prompt: 'a forbidden sea' });
    expect(banned.status).toBe(400);
    expect(JSON.parse(banned.body.message).error.code).toBe('moderation_blocked');
    expect((await simTasks(sim, '?family=video')).totals.tasks).toBe(1);
  });

  it('has its own route key for faults', async () => {
    const original = (await create({ model: 'sora-2', prompt: 'calm sea' })).body.id;
    await armFault(sim, { route: 'videos.remix', kind: 'saturated' });
    expect(await remix(original, { prompt: 'p' })).toMatchObject({ status: 429, body: { code: 'fail_to_fetch_task' } });
    expect((await create({ model: 'sora-2', prompt: 'q' })).status).toBe(200);
    expect((await remix(original, { prompt: 'p' })).status).toBe(200);
    expect((await simTasks(sim)).by_key['p']).toEqual({ attempts: 1, accepted: 1, task_ids: [expect.stringMatching(TASK_ID)] });
  });
});
