import {
  isGatewayTimeoutText,
  MjSubmitError,
  normalizeMjStatus,
  normalizeVideoStatus,
  parseMjTask,
  parseProgress,
  parseVideoTask,
  splitDescribePrompts,
  timestampToDate,
  toDataUrl,
  UpstreamError,
} from '../src';
import { closeGateways, gateway, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, routes, sendJson, type Handler, type LocalServer } from './helpers/local-server';

afterEach(closeGateways);

const bodyJson = (server: LocalServer, index = 0): any => JSON.parse(server.requests[index]?.body.toString('utf8') ?? 'null');

describe('progress, timestamps, status vocabularies', () => {
  it.each([
    [45, 45],
    ['45%', 45],
    ['45', 45],
    [' 7 % ', 7],
    ['', 0],
    [null, 0],
    [undefined, 0],
    ['abc', 0],
    [150, 100],
    [-3, 0],
    [45.6, 46],
    ['100%', 100],
  ])('parseProgress(%p) = %p', (input, expected) => {
    expect(parseProgress(input)).toBe(expected);
  });

  it('reads seconds and milliseconds timestamps; 0 and junk are absent', () => {
    expect(timestampToDate(1770313599)?.toISOString()).toBe('2026-02-05T17:46:39.000Z');
    expect(timestampToDate(1764347090922)?.getTime()).toBe(1764347090922);
    expect(timestampToDate('1770313599')?.getTime()).toBe(1770313599000);
    expect(timestampToDate(0)).toBeUndefined();
    expect(timestampToDate(null)).toBeUndefined();
    expect(timestampToDate('soon')).toBeUndefined();
  });

  it.each([
    // OpenAI / sora
    ['queued', 'pending', true],
    ['in_progress', 'pending', true],
    ['completed', 'succeeded', true],
    ['failed', 'failed', true],
    ['cancelled', 'failed', true],
    ['expired', 'failed', true],
    // gateway-made OpenAIVideo before the first poll
    ['unknown', 'pending', true],
    ['', 'pending', true],
    // new-api internal (task API wrapper), seen through some gateways
    ['NOT_START', 'pending', true],
    ['SUBMITTED', 'pending', true],
    ['QUEUED', 'pending', true],
    ['IN_PROGRESS', 'pending', true],
    ['SUCCESS', 'succeeded', true],
    ['FAILURE', 'failed', true],
    ['UNKNOWN', 'pending', true],
    // Gemini realtime and in-the-wild variants
    ['processing', 'pending', true],
    ['succeeded', 'succeeded', true],
    ['running', 'pending', true],
    ['pending', 'pending', true],
    ['succeed', 'succeeded', true],
    ['canceled', 'failed', true],
    // unrecognised strings stay pending and are reported
    ['preprocessing', 'pending', false],
    ['weird', 'pending', false],
  ])('video status %p → %p (known: %p)', (raw, status, isKnownStatus) => {
    expect(normalizeVideoStatus(raw)).toEqual({ status, isKnownStatus });
  });

  it.each([
    ['', 'pending', true],
    ['NOT_START', 'pending', true],
    ['SUBMITTED', 'pending', true],
    ['IN_PROGRESS', 'pending', true],
    ['MODAL', 'modal', true],
    ['SUCCESS', 'succeeded', true],
    ['FAILURE', 'failed', true],
    ['CANCEL', 'failed', true],
    ['PAUSED', 'pending', false],
  ])('MJ status %p → %p (known: %p)', (raw, status, isKnownStatus) => {
    expect(normalizeMjStatus(raw)).toEqual({ status, isKnownStatus });
  });

  it('recognises only the gateway timeout texts as timeouts', () => {
    expect(isGatewayTimeoutText('任务超时（1440分钟）')).toBe(true);
    expect(isGatewayTimeoutText('上游任务超时（超过1小时）')).toBe(true);
    expect(isGatewayTimeoutText('Request timed out')).toBe(true);
    expect(isGatewayTimeoutText('moderation_blocked')).toBe(false);
    expect(isGatewayTimeoutText(undefined)).toBe(false);
  });

  it('toDataUrl', () => {
    expect(toDataUrl('image/png', Buffer.from([1, 2, 3]))).toBe('data:image/png;base64,AQID');
  });
});

describe('parseVideoTask: every shape', () => {
  it('sora raw object (nulls, no URL), in progress and completed', () => {
    const running = parseVideoTask({ id: 'task_1', object: 'video', created_at: 1770313599, status: 'in_progress', completed_at: null, error: null, expires_at: null, model: 'sora-2', progress: 45, seconds: '8', size: '1280x720' });
    expect(running).toMatchObject({ id: 'task_1', status: 'pending', rawStatus: 'in_progress', progress: 45, model: 'sora-2', seconds: '8', size: '1280x720' });
    expect(running.createdAt?.getTime()).toBe(1770313599000);
    expect(running).not.toHaveProperty('url');
    expect(running).not.toHaveProperty('error');
    const done = parseVideoTask({ id: 'task_1', status: 'completed', completed_at: 1770313741, expires_at: 1770400141, progress: 100 });
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, completedAt: new Date(1770313741000), expiresAt: new Date(1770400141000) });
  });

  it('sora failed with an upstream error object; expired without one', () => {
    expect(parseVideoTask({ id: 'task_1', status: 'failed', progress: 0, error: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.' } })).toMatchObject({
      status: 'failed',
      error: { code: 'moderation_blocked', message: 'Your request was blocked by our moderation system.', isTimeout: false },
    });
    expect(parseVideoTask({ id: 'task_1', status: 'expired', error: null }).error).toEqual({ message: 'the upstream reports the video as expired', isTimeout: false });
    expect(parseVideoTask({ id: 'task_1', status: 'failed', error: { code: '', message: '任务超时（1440分钟）' } }).error).toEqual({ message: '任务超时（1440分钟）', isTimeout: true });
  });

  it('gateway-made OpenAIVideo: unknown, metadata.url, a spurious completed_at while running, ms timestamps', () => {
    const unknown = parseVideoTask({ id: 'task_2', task_id: 'task_2', object: 'video', status: 'unknown', progress: 0, created_at: 1764347090922, completed_at: 1764347090, metadata: { url: '' } });
    expect(unknown).toMatchObject({ status: 'pending', rawStatus: 'unknown', isKnownStatus: true, progress: 0, createdAt: new Date(1764347090922) });
    expect(unknown).not.toHaveProperty('completedAt');
    expect(unknown).not.toHaveProperty('url');
    expect(parseVideoTask({ id: 'task_2', status: 'completed', progress: 100, metadata: { url: 'https://cdn.example.com/v.mp4' } }).url).toBe('https://cdn.example.com/v.mp4');
    expect(parseVideoTask({ id: 'task_2', status: 'failed', progress: 100, error: { message: 'boom', code: '' } }).error).toEqual({ message: 'boom', isTimeout: false });
  });

  it('new-api task wrapper: internal status, "30%" progress, fail_reason, result_url', () => {
    const wrapped = (data: Record<string, unknown>) => ({ code: 'success', message: '', data: { id: 4711, task_id: 'task_3', submit_time: 1770313599, ...data } });
    expect(parseVideoTask(wrapped({ status: 'IN_PROGRESS', progress: '30%' }))).toMatchObject({ id: 'task_3', status: 'pending', rawStatus: 'IN_PROGRESS', progress: 30, createdAt: new Date(1770313599000) });
    expect(parseVideoTask(wrapped({ status: 'SUCCESS', progress: '100%', result_url: 'https://gw/v1/videos/task_3/content', finish_time: 1770313700 }))).toMatchObject({
      status: 'succeeded',
      url: 'https://gw/v1/videos/task_3/content',
      completedAt: new Date(1770313700000),
    });
    expect(parseVideoTask(wrapped({ status: 'FAILURE', progress: '100%', fail_reason: 'upstream returned unrecognized message' })).error).toEqual({ message: 'upstream returned unrecognized message', isTimeout: false });
  });

  it('Gemini realtime wrapper and an unrecognised status', () => {
    expect(parseVideoTask({ code: 'success', message: '', data: { error: null, format: 'mp4', metadata: null, status: 'succeeded', task_id: 'task_4', url: 'https://gw/v1/videos/task_4/content' } })).toMatchObject({
      id: 'task_4',
      status: 'succeeded',
      url: 'https://gw/v1/videos/task_4/content',
    });
    expect(parseVideoTask({ id: 'x', status: 'preprocessing', progress: '12%' })).toMatchObject({ status: 'pending', isKnownStatus: false, progress: 12 });
    expect(parseVideoTask({ status: 'queued' }, 'asked-for').id).toBe('asked-for');
  });
});

describe('videos API over HTTP', () => {
  const created = { id: 'task_abc', task_id: 'task_abc', object: 'video', model: 'sora-2', status: 'queued', progress: 0, created_at: 1770313599, seconds: '8', size: '1280x720' };

  it('create: JSON body, ratios header, request id', async () => {
    const { server, client } = await gateway((_req, res) => {
      res.setHeader('x-new-api-other-ratios', '{"seconds":8,"size":1}');
      sendJson(res, 200, created);
    });
    const result = await client.videos.create({ model: 'sora-2', prompt: 'a cat', seconds: 8, size: '1280x720', extra: { model: 'ignored', style: 'x' } });
    expect(result).toMatchObject({ id: 'task_abc', status: 'pending', rawStatus: 'queued', progress: 0, otherRatios: { seconds: 8, size: 1 }, requestId: REQUEST_ID, createdAt: new Date(1770313599000) });
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/videos' });
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
    expect(bodyJson(server)).toEqual({ model: 'sora-2', prompt: 'a cat', seconds: '8', size: '1280x720', style: 'x' });
  });

  it('create: a file reference goes multipart, a string reference stays JSON', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, created));
    await client.videos.create({ model: 'sora-2', prompt: 'p', inputReference: { filename: 'ref.png', contentType: 'image/png', data: Buffer.from('PNGDATA') } });
    const multipart = server.requests[0];
    expect(multipart?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const text = multipart?.body.toString('latin1') ?? '';
    expect(text).toContain('name="input_reference"; filename="ref.png"');
    expect(text).toContain('PNGDATA');
    expect(text).toContain('name="prompt"');
    await client.videos.create({ model: 'sora-2', prompt: 'p', inputReference: 'https://example.com/ref.png' });
    expect(bodyJson(server, 1)).toEqual({ model: 'sora-2', prompt: 'p', input_reference: 'https://example.com/ref.png' });
  });

  it('create: 200 without an id is rejected (nothing to poll; resubmitting could pay twice)', async () => {
    const { client } = await gateway((_req, res) => sendJson(res, 200, { object: 'video', status: 'queued' }));
    expect((await upstreamRejection(client.videos.create({ model: 'sora-2', prompt: 'p' }))).kind).toBe('rejected');
  });

  it('create errors: E3 invalid_size, E3 fail_to_fetch_task with the raw upstream body, 429 saturation', async () => {
    const answers: Array<[number, unknown]> = [
      [400, { code: 'invalid_size', message: 'sora-2 size is invalid', data: null }],
      [400, { code: 'fail_to_fetch_task', message: '{"error":{"message":"Invalid value","type":"invalid_request_error","param":"seconds","code":"invalid_value"}}', data: null }],
      [500, { code: 'fail_to_fetch_task', message: '{"error":{"message":"boom","type":"server_error","param":null,"code":null}}', data: null }],
      [429, { code: 'fail_to_fetch_task', message: '当前分组上游负载已饱和，请稍后再试', data: null }],
    ];
    let i = 0;
    const { client } = await gateway((_req, res) => {
      const [status, body] = answers[i++] as [number, unknown];
      sendJson(res, status, body);
    });
    const submit = () => client.videos.create({ model: 'sora-2', prompt: 'p' });
    expect(await upstreamRejection(submit())).toMatchObject({ kind: 'rejected', upstreamCode: 'invalid_size' });
    expect(await upstreamRejection(submit())).toMatchObject({ kind: 'rejected', upstreamCode: 'invalid_value' });
    expect(await upstreamRejection(submit())).toMatchObject({ kind: 'retryable', httpStatus: 500 });
    expect(await upstreamRejection(submit())).toMatchObject({ kind: 'rate_limited', httpStatus: 429 });
  });

  it('get: encodes the id; 400 task_not_exist is not_found; a slow status read times out after pollMs', async () => {
    const { server, client } = await gateway(
      routes({
        'GET /v1/videos/task_a%2Fb': (_req, res) => sendJson(res, 200, { id: 'task_a/b', status: 'in_progress', progress: 45 }),
        'GET /v1/videos/task_gone': (_req, res) => sendJson(res, 400, { code: 'task_not_exist', message: 'task_not_exist', data: null }),
        'GET /v1/videos/task_slow': () => undefined,
      }),
      { taskTimeouts: { pollMs: 150 } },
    );
    expect(await client.videos.get('task_a/b')).toMatchObject({ id: 'task_a/b', progress: 45, requestId: REQUEST_ID });
    expect(await upstreamRejection(client.videos.get('task_gone'))).toMatchObject({ kind: 'not_found', upstreamCode: 'task_not_exist' });
    const slow = await upstreamRejection(client.videos.get('task_slow'));
    expect(slow.kind).toBe('retryable');
    expect(slow.message).toMatch(/150 ms/);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/videos/task_a%2Fb', '/v1/videos/task_gone', '/v1/videos/task_slow']);
  });

  it('download: 502 "Upstream service returned status 403" is an expired asset (not_found), other 502s stay retryable', async () => {
    const handler: Handler = (req, res) => {
      if (req.url === '/v1/videos/task_ok/content') {
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.end(Buffer.from('MP4'));
      } else if (req.url === '/v1/videos/task_old/content') {
        sendJson(res, 502, { error: { message: 'Upstream service returned status 403', type: 'server_error' } });
      } else {
        sendJson(res, 502, { error: { message: 'Upstream service returned status 500', type: 'server_error' } });
      }
    };
    const { server, client } = await gateway(handler);
    const ok = await client.videos.download('task_ok');
    expect(ok).toMatchObject({ contentType: 'video/mp4' });
    expect(ok.bytes.toString()).toBe('MP4');
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer sk-test-key');
    expect((await upstreamRejection(client.videos.download('task_old'))).kind).toBe('not_found');
    expect((await upstreamRejection(client.videos.download('task_flaky'))).kind).toBe('retryable');
    expect((await client.videos.download('data:video/mp4;base64,TVA0')).bytes.toString()).toBe('MP4');
  });
});

describe('MJ submit: the code table', () => {
  const answer = (status: number, body: unknown): Handler => (_req, res) => sendJson(res, status, body);
  const submitWith = async (status: number, body: unknown) => {
    const { client } = await gateway(answer(status, body));
    return client.mj.submit('imagine', { prompt: 'a fox' });
  };

  it('1 → ok with taskId; 22 and 21 as gateways send them', async () => {
    expect(await submitWith(200, { code: 1, description: '提交成功', result: '1750000123456789', properties: { discordInstanceId: '1' } })).toMatchObject({
      outcome: 'ok',
      code: 1,
      taskId: '1750000123456789',
      description: '提交成功',
      properties: { discordInstanceId: '1' },
      requestId: REQUEST_ID,
    });
    expect(await submitWith(200, { code: 22, description: '排队中，前面还有1个任务', result: '1750000123456790', properties: { numberOfQueues: 1 } })).toMatchObject({ outcome: 'ok', code: 22 });
    expect(await submitWith(200, { code: 21, description: 'Waiting for window confirm', result: '1750000123456791', properties: { finalPrompt: 'p', remix: true } })).toMatchObject({
      outcome: 'modal',
      taskId: '1750000123456791',
    });
    expect(await submitWith(200, { code: 1, description: 'ok', result: 1750000123456792 })).toMatchObject({ taskId: '1750000123456792', properties: {} });
  });

  it('23 → retry_later (not an error)', async () => {
    const result = await submitWith(200, { code: 23, description: '队列已满，请稍后尝试', result: null, properties: { numberOfQueues: 10 } });
    expect(result).toMatchObject({ outcome: 'retry_later', code: 23 });
    expect(result.taskId).toBeUndefined();
  });

  it('24 → MjSubmitError (rejected) carrying the banned word', async () => {
    const err = await upstreamRejection(submitWith(200, { code: 24, description: '可能包含敏感词', properties: { promptEn: 'nude body', bannedWord: 'nude' }, result: null }));
    expect(err).toBeInstanceOf(MjSubmitError);
    expect(err).toMatchObject({ kind: 'rejected', mjCode: 24, bannedWord: 'nude', promptEn: 'nude body', upstreamCode: '24', upstreamMessage: '可能包含敏感词' });
    expect(err.message).toContain('"nude"');
  });

  it.each([
    [200, 4, 'prompt不能为空'],
    [200, 9, '提交失败，队列已满，请稍后重试'],
    [404, 3, '关联任务不存在或已失效'],
    [200, 7, 'something new'],
  ])('HTTP %p code %p → MjSubmitError rejected', async (status, code, description) => {
    const err = await upstreamRejection(submitWith(status, { code, description, result: null, properties: {} }));
    expect(err).toBeInstanceOf(MjSubmitError);
    expect(err).toMatchObject({ kind: 'rejected', mjCode: code, httpStatus: status });
  });

  it('gateway errors: E5 400 code 4 → rejected (quota_not_enough → auth), E5 400 code 5 → retryable, 429 code 30 → rate_limited, E1 → rejected, 401 → auth', async () => {
    const cases: Array<[number, unknown, UpstreamError['kind']]> = [
      [400, { description: 'task_status_not_success ', type: 'upstream_error', code: 4 }, 'rejected'],
      [400, { description: 'quota_not_enough ', type: 'upstream_error', code: 4 }, 'auth'],
      [400, { description: 'do_request_failed EOF', type: 'upstream_error', code: 5 }, 'retryable'],
      [429, { description: ' 当前分组负载已饱和，请稍后再试', type: 'upstream_error', code: 30 }, 'rate_limited'],
      [400, { error: { message: 'Invalid request: unknown_action:MJ::JOB::animate_high::1::x::SOLO', type: 'new_api_error', code: '' } }, 'rejected'],
      [401, { error: { message: 'Invalid token', type: 'new_api_error', code: '' } }, 'auth'],
      [200, { code: 30, description: 'saturated', result: null }, 'rate_limited'],
    ];
    for (const [status, body, kind] of cases) {
      const err = await upstreamRejection(submitWith(status, body));
      expect(err.kind).toBe(kind);
      expect(err instanceof MjSubmitError).toBe(status === 200);
    }
  });

  it('an HTML 200 (route not relayed: the SPA page) is retryable, not a success; code 1 without an id is rejected', async () => {
    const { client } = await gateway((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html></html>');
    });
    expect((await upstreamRejection(client.mj.submit('imagine', { prompt: 'p' }))).kind).toBe('retryable');
    expect((await upstreamRejection(submitWith(200, { code: 1, description: 'ok', result: null }))).kind).toBe('rejected');
  });

  it('a submit that gets no answer times out after submitMs (retryable: the caller decides, knowing it may have been accepted)', async () => {
    const { client } = await gateway(() => undefined, { taskTimeouts: { submitMs: 150 } });
    const err = await upstreamRejection(client.mj.submit('imagine', { prompt: 'p' }));
    expect(err.kind).toBe('retryable');
    expect(err.message).toMatch(/150 ms/);
  });

  it('sends the body without undefined fields, extras first; mode adds the route prefix; bad bodies throw before sending', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { code: 1, description: 'ok', result: '1' }));
    await client.mj.submit('imagine', { prompt: 'p', state: 'job', extra: { accountFilter: { remark: 'x' }, prompt: 'ignored' } }, { mode: 'relax' });
    expect(server.requests[0]?.path).toBe('/mj-relax/mj/submit/imagine');
    expect(bodyJson(server)).toEqual({ accountFilter: { remark: 'x' }, prompt: 'p', state: 'job' });
    await client.mj.submit('action', { taskId: '1', customId: 'MJ::JOB::upsample::1::h', enableRemix: true });
    expect(server.requests[1]?.path).toBe('/mj/submit/action');
    expect(bodyJson(server, 1)).toEqual({ taskId: '1', customId: 'MJ::JOB::upsample::1::h', enableRemix: true });
    await expect(client.mj.submit('blend', { base64Array: ['a'] })).rejects.toThrow(TypeError);
    await expect(client.mj.submit('blend', { base64Array: ['a', 'b', 'c', 'd', 'e', 'f'] })).rejects.toThrow(TypeError);
    await expect(client.mj.submit('action', { taskId: '1', customId: '' })).rejects.toThrow(TypeError);
    await expect(client.mj.submit('describe', {})).rejects.toThrow(TypeError);
    expect(server.requests).toHaveLength(2);
  });
});

describe('MJ tasks: fetch, list-by-condition, parsing', () => {
  const dto = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    action: 'IMAGINE',
    customId: '',
    botType: '',
    prompt: 'a red fox',
    promptEn: 'a red fox',
    description: '提交成功',
    state: '',
    submitTime: 1750000123456,
    startTime: 0,
    finishTime: 0,
    imageUrl: '',
    status: '',
    progress: '0%',
    failReason: '',
    buttons: null,
    maskBase64: '',
    properties: null,
    ...extra,
  });

  it('parseMjTask: progress formats, preview images, buttons null or array, timeout text', () => {
    expect(parseMjTask(dto('1'))).toMatchObject({ id: '1', status: 'pending', rawStatus: '', progress: 0, buttons: [], isPreviewImage: false, submitTime: new Date(1750000123456) });
    expect(parseMjTask(dto('1'))).not.toHaveProperty('startTime');
    expect(parseMjTask(dto('1', { status: 'IN_PROGRESS', progress: '45%', imageUrl: 'https://gw/mj/image/1?rand=1' }))).toMatchObject({ progress: 45, isPreviewImage: true, imageUrl: 'https://gw/mj/image/1?rand=1' });
    const done = parseMjTask(dto('1', { status: 'SUCCESS', progress: '100%', imageUrl: 'https://gw/mj/image/1', buttons: [{ customId: 'MJ::JOB::upsample::1::h', emoji: '', label: 'U1', type: 2, style: 2 }, { label: 'no id' }] }));
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, isPreviewImage: false, buttons: [{ customId: 'MJ::JOB::upsample::1::h', label: 'U1', emoji: '', type: 2, style: 2 }] });
    expect(parseMjTask(dto('1', { status: 'FAILURE', progress: '', failReason: '[Invalid parameter] Invalid value' }))).toMatchObject({ status: 'failed', progress: 0, isTimeout: false });
    expect(parseMjTask(dto('1', { status: 'FAILURE', progress: '100%', failReason: '上游任务超时（超过1小时）' }))).toMatchObject({ status: 'failed', isTimeout: true });
    expect(parseMjTask(dto('1', { status: 'MODAL' })).status).toBe('modal');
    expect(parseMjTask({ id: 1750000123456789 }).id).toBe('1750000123456789');
  });

  it('describe prompts come from properties.finalPrompt, then promptEn; numbering is removed', () => {
    const text = '1️⃣ a fox in snow --ar 3:2\n\n2️⃣ a fox, watercolour\n\n3. a third\n\n4) a fourth';
    expect(splitDescribePrompts(text)).toEqual(['a fox in snow --ar 3:2', 'a fox, watercolour', 'a third', 'a fourth']);
    const task = parseMjTask(dto('2', { action: 'DESCRIBE', status: 'SUCCESS', prompt: '', promptEn: 'x', properties: { finalPrompt: text, finalZhPrompt: '' } }));
    expect(task.prompts).toHaveLength(4);
    expect(parseMjTask(dto('2', { action: 'DESCRIBE', status: 'SUCCESS', prompt: '', promptEn: '1️⃣ only one', properties: null })).prompts).toEqual(['only one']);
    expect(parseMjTask(dto('2', { action: 'DESCRIBE', status: 'IN_PROGRESS' })).prompts).toBeUndefined();
  });

  it('fetch: unknown id (400 E5 task_no_found) is not_found; other 400s stay rejected; HTML 200 is retryable', async () => {
    const { client } = await gateway(
      routes({
        'GET /mj/task/1/fetch': (_req, res) => sendJson(res, 200, dto('1', { status: 'SUBMITTED' })),
        'GET /mj/task/2/fetch': (_req, res) => sendJson(res, 400, { description: 'task_no_found ', type: 'upstream_error', code: 4 }),
        'GET /mj/task/3/fetch': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html>');
        },
        'GET /mj/task/4/image-seed': (_req, res) => sendJson(res, 400, { code: 4, description: '关联任务状态错误', result: null }),
        'GET /mj/task/5/image-seed': (_req, res) => sendJson(res, 200, { code: 1, description: '成功', result: '3456789012' }),
      }),
    );
    expect(await client.mj.fetch('1')).toMatchObject({ id: '1', rawStatus: 'SUBMITTED', status: 'pending' });
    expect(await upstreamRejection(client.mj.fetch('2'))).toMatchObject({ kind: 'not_found', httpStatus: 400, upstreamCode: '4' });
    expect((await upstreamRejection(client.mj.fetch('3'))).kind).toBe('retryable');
    expect((await upstreamRejection(client.mj.imageSeed('4'))).kind).toBe('rejected');
    expect(await client.mj.imageSeed('5')).toBe('3456789012');
  });

  it('listByCondition splits large lists into batches, dedupes, and fails the call on a bad batch', async () => {
    const { server, client } = await gateway((_req, res, body) => {
      const ids = (JSON.parse(body.toString('utf8')) as { ids: string[] }).ids;
      sendJson(res, 200, ids.filter((id) => id !== 'missing').map((id) => dto(id, { status: 'IN_PROGRESS', progress: '10%' })));
    });
    const ids = Array.from({ length: 250 }, (_, i) => `${1750000000000000 + i}`);
    const tasks = await client.mj.listByCondition([...ids, ids[0] as string, 'missing']);
    expect(tasks).toHaveLength(250);
    expect(tasks[0]).toMatchObject({ progress: 10, status: 'pending' });
    expect(server.requests.map((r) => JSON.parse(r.body.toString('utf8')).ids.length)).toEqual([100, 100, 51]);
    expect(server.requests.every((r) => r.path === '/mj/task/list-by-condition' && r.method === 'POST')).toBe(true);
    expect(await client.mj.listByCondition([])).toEqual([]);
    expect(server.requests).toHaveLength(3);

    const small = await client.mj.listByCondition(ids.slice(0, 5), { batchSize: 2 });
    expect(small).toHaveLength(5);
    expect(server.requests).toHaveLength(6);

    const { client: broken } = await gateway((_req, res) => sendJson(res, 200, { not: 'an array' }));
    expect((await upstreamRejection(broken.mj.listByCondition(['1']))).kind).toBe('retryable');
    const { client: limited } = await gateway((_req, res) => {
      res.writeHead(429);
      res.end();
    });
    expect((await upstreamRejection(limited.mj.listByCondition(['1']))).kind).toBe('rate_limited');
  });
});
