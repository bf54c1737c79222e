import { createHash } from 'node:crypto';
import type { RunningSimulator } from '../src';
import { armFault, call } from './helpers';
import { advanceTo, bootFrozen, getJson, pngDataUrl, postJson, simTask, simTasks, T0 } from './task-helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const MJ_ID = /^\d{16}$/;

let sim: RunningSimulator;
afterEach(() => sim?.close());

const submit = (kind: string, body: Record<string, unknown>, prefix = '') => postJson(sim, `${prefix}/mj/submit/${kind}`, body);
const fetchTask = (id: string, prefix = '') => getJson(sim, `${prefix}/mj/task/${id}/fetch`);
const list = (ids: unknown) => postJson(sim, '/mj/task/list-by-condition', { ids });

async function imagine(prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await submit('imagine', { prompt, ...extra });
  expect(res.body.code).toBe(1);
  return res.body.result as string;
}

/** An imagine that has finished (T0 + 45 s on the default timing). */
async function finishedImagine(prompt = 'a red fox in snow'): Promise<{ id: string; buttons: any[] }> {
  const id = await imagine(prompt);
  advanceTo(sim, 45_000);
  const { body } = await fetchTask(id);
  expect(body.status).toBe('SUCCESS');
  return { id, buttons: body.buttons };
}

describe('MJ submit and fetch', () => {
  beforeEach(async () => {
    sim = await bootFrozen(); // tick 15 s, MJ 45 s
  });

  it('imagine: code 1 with a 16-digit id; fetch walks ""/0% → SUBMITTED → IN_PROGRESS "NN%" → SUCCESS "100%"', async () => {
    const res = await submit('imagine', { prompt: 'a red fox in snow --ar 3:2', state: 'job-1', notifyHook: 'http://x' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 1, description: '提交成功', properties: { discordInstanceId: expect.any(String) }, result: expect.stringMatching(MJ_ID) });
    const id = res.body.result;

    const fresh = (await fetchTask(id)).body;
    expect(fresh).toEqual({
      id,
      action: 'IMAGINE',
      customId: '',
      botType: '',
      prompt: 'a red fox in snow --ar 3:2',
      promptEn: '',
      description: '提交成功',
      state: 'job-1',
      submitTime: T0,
      startTime: 0,
      finishTime: 0,
      imageUrl: '',
      videoUrl: '',
      videoUrls: null,
      status: '',
      progress: '0%',
      failReason: '',
      buttons: null,
      maskBase64: '',
      properties: null,
    });

    advanceTo(sim, 15_000);
    expect((await fetchTask(id)).body).toMatchObject({ status: 'SUBMITTED', progress: '0%', buttons: [], promptEn: 'a red fox in snow --ar 3:2' });
    advanceTo(sim, 30_000);
    const running = (await fetchTask(id)).body;
    expect(running).toMatchObject({ status: 'IN_PROGRESS', progress: '66%', startTime: expect.any(Number), finishTime: 0 });
    expect(running.imageUrl).toMatch(new RegExp(`^${sim.url}/mj/image/${id}\\?rand=\\d+$`));
    const preview = await call(sim, `/mj/image/${id}`);
    expect(preview.status).toBe(200);

    advanceTo(sim, 45_000);
    const done = (await fetchTask(id)).body;
    expect(done).toMatchObject({
      status: 'SUCCESS',
      progress: '100%',
      imageUrl: `${sim.url}/mj/image/${id}`,
      finishTime: T0 + 45_000,
      properties: { finalPrompt: 'a red fox in snow --ar 3:2', finalZhPrompt: '' },
      customId: '',
      botType: '',
      maskBase64: '',
    });
    expect(done.buttons.map((b: any) => b.label || b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4']);
    expect(done.buttons[0]).toEqual({ customId: expect.stringMatching(/^MJ::JOB::upsample::1::[0-9a-f-]{36}$/), emoji: '', label: 'U1', type: 2, style: 2 });
  });

  it('/mj/image/{id} needs no auth, serves the deterministic PNG and expires; unknown ids are 400', async () => {
    const { id } = await finishedImagine();
    const image = await fetch(`${sim.url}/mj/image/${id}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe((await simTask(sim, id)).result.sha256);
    advanceTo(sim, 45_000 + 86_400_000);
    const expired = await fetch(`${sim.url}/mj/image/${id}`);
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual({ error: 'This content is no longer available.' });
    const unknown = await fetch(`${sim.url}/mj/image/1234567890123456`);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: 'midjourney_task_not_found' });
  });

  it('accepts the /mj-fast, /mj-relax, /mj-turbo prefixes and the mj-api-secret header', async () => {
    const fast = await submit('imagine', { prompt: 'p' }, '/mj-fast');
    expect(fast.body.code).toBe(1);
    expect((await fetchTask(fast.body.result, '/mj-relax')).status).toBe(200);
    expect((await fetchTask(fast.body.result, '/mj-turbo')).status).toBe(200);
    const secret = await call(sim, '/mj/submit/imagine', { headers: { authorization: 'midjourney-proxy', 'mj-api-secret': 'sk-test' }, json: { prompt: 'p' } });
    expect(((await secret.json()) as any).code).toBe(1);
    const none = await call(sim, '/mj/submit/imagine', { json: { prompt: 'p' } });
    expect(none.status).toBe(401);
  });

  it('unknown task on fetch / image-seed: 400 E5 with the trailing space', async () => {
    expect(await fetchTask('1234567890123456')).toMatchObject({ status: 400, body: { description: 'task_no_found ', type: 'upstream_error', code: 4 } });
    expect((await getJson(sim, '/mj/task/1234567890123456/image-seed')).status).toBe(400);
  });

  it('image-seed: 400 before the task is done, the seed after', async () => {
    const id = await imagine('seeded');
    expect(await getJson(sim, `/mj/task/${id}/image-seed`)).toMatchObject({ status: 400, body: { code: 4, description: '关联任务状态错误' } });
    advanceTo(sim, 45_000);
    expect(await getJson(sim, `/mj/task/${id}/image-seed`)).toMatchObject({ status: 200, body: { code: 1, description: '成功', result: expect.stringMatching(/^\d+$/) } });
  });
});

describe('MJ submit result codes', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('22 (queued) arrives rewritten to 1 with the queue text', async () => {
    const res = await submit('imagine', { prompt: 'q sim:queued' });
    expect(res.body).toEqual({ code: 1, description: '排队中，前面还有2个任务', properties: { numberOfQueues: 2, discordInstanceId: expect.any(String) }, result: expect.stringMatching(MJ_ID) });
  });

  it('23 queue full, 9 system error, 4 validation: HTTP 200, nothing created, nothing charged', async () => {
    const used = ((await (await call(sim, '/_sim/state')).json()) as any).balance.used;
    expect(await submit('imagine', { prompt: 'a sim:queue-full' })).toMatchObject({ status: 200, body: { code: 23, result: null } });
    expect(await submit('imagine', { prompt: 'b sim:system-error' })).toMatchObject({ status: 200, body: { code: 9, description: '提交失败，队列已满，请稍后重试' } });
    expect(await submit('imagine', { prompt: 'c sim:invalid' })).toMatchObject({ status: 200, body: { code: 4 } });
    expect(await submit('imagine', { prompt: 'd', base64Array: ['not-a-data-url'] })).toMatchObject({ status: 200, body: { code: 4, description: 'base64格式错误' } });
    const summary = await simTasks(sim);
    expect(summary.totals.tasks).toBe(0);
    expect(summary.by_key['a sim:queue-full']).toEqual({ attempts: 1, accepted: 0, task_ids: [] });
    expect(((await (await call(sim, '/_sim/state')).json()) as any).balance.used).toBe(used);
  });

  it('24 banned prompt carries promptEn and bannedWord', async () => {
    expect(await submit('imagine', { prompt: 'a forbidden thing' })).toMatchObject({
      status: 200,
      body: { code: 24, description: '可能包含敏感词', properties: { promptEn: 'a forbidden thing', bannedWord: 'forbidden' }, result: null },
    });
  });

  it('gateway errors: 400 E5 prompt_is_required / quota_not_enough (code 4)', async () => {
    expect(await submit('imagine', { prompt: '' })).toMatchObject({ status: 400, body: { description: 'prompt_is_required ', type: 'upstream_error', code: 4 } });
    await call(sim, '/_sim/config', { json: { quota_granted: 0 } });
    expect(await submit('imagine', { prompt: 'p' })).toMatchObject({ status: 400, body: { description: 'quota_not_enough ', code: 4 } });
  });

  it('blend takes 2..5 data-URL images and a known dimensions value', async () => {
    expect((await submit('blend', { base64Array: [pngDataUrl(1)] })).body).toMatchObject({ code: 4, description: 'base64List参数错误' });
    expect((await submit('blend', { base64Array: [1, 2, 3, 4, 5, 6].map(pngDataUrl) })).body.code).toBe(4);
    expect((await submit('blend', { base64Array: [pngDataUrl(1), pngDataUrl(2)], dimensions: 'WIDE' })).body).toMatchObject({ code: 4, description: 'dimensions参数错误' });
    const ok = await submit('blend', { base64Array: [pngDataUrl(1), pngDataUrl(2), pngDataUrl(3)], dimensions: 'PORTRAIT' });
    expect(ok.body.code).toBe(1);
    advanceTo(sim, 45_000);
    expect((await fetchTask(ok.body.result)).body).toMatchObject({ action: 'BLEND', status: 'SUCCESS', prompt: '', promptEn: '<#1> <#2> <#3> --ar 2:3' });
  });

  it('describe returns its prompts in promptEn and properties.finalPrompt (prompt stays "")', async () => {
    const res = await submit('describe', { base64: pngDataUrl(7) });
    expect(res.body.code).toBe(1);
    advanceTo(sim, 45_000);
    const task = (await fetchTask(res.body.result)).body;
    expect(task).toMatchObject({ action: 'DESCRIBE', status: 'SUCCESS', prompt: '' });
    expect(task.properties.finalPrompt).toBe(task.promptEn);
    expect(task.promptEn.split('\n\n')).toHaveLength(4);
    expect(task.promptEn).toMatch(/^1️⃣ /);
    expect(task.buttons.map((b: any) => b.customId)).toContain('MJ::Job::PicReader::1');
  });
});

describe('MJ actions and the MODAL flow', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('action on a finished parent: U1 → UPSCALE with the single-image buttons', async () => {
    const parent = await finishedImagine();
    const u1 = parent.buttons.find((b) => b.label === 'U1');
    const res = await submit('action', { taskId: parent.id, customId: u1.customId, state: 'job-u1' });
    expect(res.body).toMatchObject({ code: 1, description: '提交成功', result: expect.stringMatching(MJ_ID) });
    advanceTo(sim, 90_000);
    const task = (await fetchTask(res.body.result)).body;
    expect(task).toMatchObject({ action: 'UPSCALE', status: 'SUCCESS', state: 'job-u1', prompt: 'a red fox in snow' });
    expect(task.buttons.map((b: any) => b.label)).toEqual(expect.arrayContaining(['Vary (Region)', 'Custom Zoom', 'Zoom Out 2x']));
    expect((await simTasks(sim, '?state=job-u1')).by_state['job-u1']).toEqual({ attempts: 1, accepted: 1, task_ids: [res.body.result] });
  });

  it('refusals: missing/unknown customId (400 E1), no "::" (500 E9), unknown/unfinished parent (400 E5), foreign button (404 code 3)', async () => {
    const running = await imagine('still running');
    expect(await submit('action', { taskId: running, customId: '' })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^Invalid request: custom_id_is_required/), type: 'new_api_error', code: '' } } });
    const animate = await submit('action', { taskId: running, customId: 'MJ::JOB::animate_high::1::abc::SOLO' });
    expect(animate.status).toBe(400);
    expect(animate.body.error.message).toMatch(/^Invalid request: unknown_action:MJ::JOB::animate_high::1::abc::SOLO/);
    expect(animate.body.error).not.toHaveProperty('param');
    expect((await submit('action', { taskId: running, customId: 'MJ::BOOKMARK::x' })).status).toBe(400);
    expect(await submit('action', { taskId: running, customId: 'nocolons' })).toMatchObject({ status: 500, body: { error: { type: 'new_api_panic' } } });
    expect(await submit('action', { taskId: '1234567890123456', customId: 'MJ::JOB::upsample::1::x' })).toMatchObject({ status: 400, body: { description: 'task_not_found ', code: 4 } });
    expect(await submit('action', { taskId: running, customId: 'MJ::JOB::upsample::1::x' })).toMatchObject({ status: 400, body: { description: 'task_status_not_success ', code: 4 } });
    advanceTo(sim, 45_000);
    expect(await submit('action', { taskId: running, customId: 'MJ::JOB::upsample::1::00000000-0000-4000-a000-000000000000' })).toMatchObject({
      status: 404,
      body: { code: 3, description: '关联任务不存在或已失效' },
    });
  });

  it('INPAINT: code 21 kept, MODAL at once, modal submit needs a mask, then the task runs from the modal submit', async () => {
    const parent = await finishedImagine();
    const u1 = await submit('action', { taskId: parent.id, customId: parent.buttons[0].customId });
    advanceTo(sim, 90_000);
    const upscale = (await fetchTask(u1.body.result)).body;
    const region = upscale.buttons.find((b: any) => b.label === 'Vary (Region)');
    expect(region.customId).toMatch(/^MJ::Inpaint::1::/);

    const inpaint = await submit('action', { taskId: upscale.id, customId: region.customId });
    expect(inpaint.body).toEqual({ code: 21, description: 'Waiting for window confirm', properties: { finalPrompt: 'a red fox in snow', remix: true }, result: expect.stringMatching(MJ_ID) });
    const modalId = inpaint.body.result;
    expect((await fetchTask(modalId)).body).toMatchObject({ action: 'INPAINT', status: 'MODAL', progress: '0%', description: 'Waiting for window confirm' });

    expect((await submit('modal', { taskId: modalId, prompt: 'a blue fox' })).body).toMatchObject({ code: 4, description: 'maskBase64不能为空' });
    const accepted = await submit('modal', { taskId: modalId, prompt: 'a blue fox', maskBase64: pngDataUrl(9) });
    expect(accepted.body).toMatchObject({ code: 1, result: modalId });
    expect((await submit('modal', { taskId: modalId, prompt: 'again', maskBase64: pngDataUrl(9) })).body).toMatchObject({ code: 4, description: '任务状态错误' });

    expect((await fetchTask(modalId)).body.status).toBe('MODAL'); // until the next gateway poll
    advanceTo(sim, 105_000);
    expect((await fetchTask(modalId)).body.status).toBe('SUBMITTED');
    advanceTo(sim, 135_000);
    expect((await fetchTask(modalId)).body).toMatchObject({ status: 'SUCCESS', prompt: 'a blue fox' });
    expect(await simTask(sim, modalId)).toMatchObject({ submissions: 1, modal_submissions: 1, modal: 'visible' });
    expect((await simTasks(sim)).by_key[`modal:${modalId}`]).toEqual({ attempts: 3, accepted: 1, task_ids: [modalId] });
  });

  it('CUSTOM_ZOOM answers 21 too; a remix VARIATION answers 1 and shows MODAL only after the next poll', async () => {
    const parent = await finishedImagine();
    const u1 = await submit('action', { taskId: parent.id, customId: parent.buttons[0].customId });
    advanceTo(sim, 90_000);
    const zoom = (await fetchTask(u1.body.result)).body.buttons.find((b: any) => b.label === 'Custom Zoom');
    expect((await submit('action', { taskId: u1.body.result, customId: zoom.customId })).body.code).toBe(21);

    const v1 = parent.buttons.find((b) => b.label === 'V1');
    const remix = await submit('action', { taskId: parent.id, customId: v1.customId, enableRemix: true });
    expect(remix.body).toMatchObject({ code: 1, description: 'Waiting for window confirm', properties: { remix: true } });
    expect((await fetchTask(remix.body.result)).body.status).toBe('');
    advanceTo(sim, 105_000);
    expect((await fetchTask(remix.body.result)).body).toMatchObject({ action: 'VARIATION', status: 'MODAL' });
    expect((await submit('modal', { taskId: remix.body.result, prompt: 'remixed' })).body.code).toBe(1);
  });

  it('a MODAL task left alone fails with the 1 h gateway timeout', async () => {
    const parent = await finishedImagine();
    const u1 = await submit('action', { taskId: parent.id, customId: parent.buttons[0].customId });
    advanceTo(sim, 90_000);
    const region = (await fetchTask(u1.body.result)).body.buttons.find((b: any) => b.label === 'Vary (Region)');
    const modalId = (await submit('action', { taskId: u1.body.result, customId: region.customId })).body.result;
    advanceTo(sim, 90_000 + 3_600_000);
    expect((await fetchTask(modalId)).body).toMatchObject({ status: 'FAILURE', progress: '100%', failReason: '上游任务超时（超过1小时）' });
    expect((await submit('modal', { taskId: modalId, maskBase64: pngDataUrl(1) })).body.code).toBe(4);
  });
});

describe('MJ failures, list-by-condition, faults', () => {
  beforeEach(async () => {
    sim = await bootFrozen();
  });

  it('sim:fail (FAILURE 100%), sim:fail-raw (progress ""), sim:cancel (CANCEL), sim:timeout (1 h timeout); failures are refunded', async () => {
    const used = ((await (await call(sim, '/_sim/state')).json()) as any).balance.used;
    const fail = await imagine('x sim:fail');
    const raw = await imagine('x sim:fail-raw');
    const cancel = await imagine('x sim:cancel');
    const stall = await imagine('x sim:timeout');
    advanceTo(sim, 30_000);
    expect((await fetchTask(fail)).body).toMatchObject({ status: 'FAILURE', progress: '100%', failReason: '[Invalid parameter] Invalid value', imageUrl: '' });
    expect((await fetchTask(raw)).body).toMatchObject({ status: 'FAILURE', progress: '', failReason: '[Invalid parameter] Invalid value' });
    expect((await fetchTask(cancel)).body).toMatchObject({ status: 'CANCEL', progress: '' });
    advanceTo(sim, 1_800_000);
    expect((await fetchTask(stall)).body).toMatchObject({ status: 'IN_PROGRESS', progress: '50%' });
    advanceTo(sim, 3_600_000);
    expect((await fetchTask(stall)).body).toMatchObject({ status: 'FAILURE', progress: '100%', failReason: '上游任务超时（超过1小时）' });
    expect(((await (await call(sim, '/_sim/state')).json()) as any).balance.used).toBe(used);
  });

  it('list-by-condition: known ids in submit order, unknown and duplicate ids ignored, [] for none, counted per id', async () => {
    const a = await imagine('a');
    const b = await imagine('b');
    expect((await list([])).body).toEqual([]);
    expect((await list(['1234567890123456'])).body).toEqual([]);
    const res = await list([b, '1234567890123456', a, b]);
    expect(res.status).toBe(200);
    expect(res.body.map((t: any) => t.id)).toEqual([a, b]);
    expect(res.body[0]).toMatchObject({ status: '', progress: '0%', customId: '', botType: '' });
    await fetchTask(a);
    expect(await simTask(sim, a)).toMatchObject({ status_requests: 2, list_requests: 1, fetch_requests: 1 });
    expect(await simTask(sim, b)).toMatchObject({ status_requests: 1, list_requests: 1, fetch_requests: 0 });
  });

  it('faults: saturated / rate_limit_json → 429 E5 code 30, server_error → 400 E5 code 5, rejected → code 24; fetch and list take generic faults', async () => {
    await armFault(sim, { route: 'mj.submit', kind: 'saturated' });
    await armFault(sim, { route: 'mj.submit', kind: 'rate_limit_json' });
    await armFault(sim, { route: 'mj.submit', kind: 'server_error' });
    await armFault(sim, { route: 'mj.submit', kind: 'rejected' });
    await armFault(sim, { route: 'mj.submit', kind: 'quota' });
    expect(await submit('imagine', { prompt: 'p' })).toMatchObject({ status: 429, body: { type: 'upstream_error', code: 30, description: expect.stringContaining('当前分组负载已饱和') } });
    expect((await submit('imagine', { prompt: 'p' })).status).toBe(429);
    expect(await submit('imagine', { prompt: 'p' })).toMatchObject({ status: 400, body: { type: 'upstream_error', code: 5, description: expect.stringMatching(/^do_request_failed /) } });
    expect(await submit('imagine', { prompt: 'p' })).toMatchObject({ status: 200, body: { code: 24, properties: { bannedWord: 'forbidden' } } });
    expect(await submit('imagine', { prompt: 'p' })).toMatchObject({ status: 400, body: { description: 'quota_not_enough ', code: 4 } });
    const id = await imagine('p');
    await armFault(sim, { route: 'mj', kind: 'server_error', status: 502 });
    expect((await fetchTask(id)).status).toBe(502);
    await armFault(sim, { route: 'mj.list', kind: 'rate_limit_empty' });
    expect((await list([id])).status).toBe(429);
    expect((await simTask(sim, id)).status_requests).toBe(0);
  });

  it('many concurrent imagines finish on the fast-time grid; list-by-condition answers 100 ids per request', async () => {
    await sim.close();
    sim = await bootFrozen({ mjCostQuota: 0 }, { fastTime: true });
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => imagine(`bulk ${i}`)));
    expect(new Set(ids).size).toBe(300);
    advanceTo(sim, 1_000); // 45 s / 60 = 750 ms, on a 250 ms grid
    const statuses: string[] = [];
    for (let i = 0; i < ids.length; i += 100) statuses.push(...(await list(ids.slice(i, i + 100))).body.map((t: any) => t.status));
    expect(statuses).toHaveLength(300);
    expect(new Set(statuses)).toEqual(new Set(['SUCCESS']));
    const summary = await simTasks(sim, '?family=mj&summary=1');
    expect(summary.totals).toMatchObject({ tasks: 300, submissions: 300, status_requests: 300, list_requests: 300 });
    expect(summary).not.toHaveProperty('tasks');
    expect((await call(sim, '/_sim/counters').then((r) => r.json()) as any).routes['mj.list'].received).toBe(3);
  });
});
