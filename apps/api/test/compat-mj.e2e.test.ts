import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Project, TestStack } from '@genqueue/testing';
import { MjErrorSchema, MjImageSeedSchema, MjSubmitResultSchema, MjTaskSchema } from '../src/services/compat/compat-schemas';
import { countFileRows, countJobRows, eventually, makePng, startStack, stopStack } from './helpers';

/**
 * A midjourney-proxy client pointed at genqueue (docs/compat.md): requests built by hand the way
 * midjourney-proxy clients and the gateway's `/mj` clients send them (docs/gateway.md §9: the key in
 * `mj-api-secret` or `Authorization: Bearer`, camelCase bodies with `accountFilter`, empty
 * `notifyHook`/`state` strings), answers read the way they read them.
 */

type Received = { path: string; headers: IncomingHttpHeaders; body: any };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const dataUrl = (bytes: Buffer, type = 'image/png'): string => `data:${type};base64,${bytes.toString('base64')}`;
/** what the gateway's documentation puts into every MJ submit */
const ACCOUNT_FILTER = { channelId: '', instanceId: '', modes: [], remark: '', remix: true, remixAutoConsidered: true };
/** the answer is exactly what the schema of /openapi.json says: nothing missing, nothing more */
const expectShape = (schema: { parse(v: unknown): unknown }, body: unknown) => expect(schema.parse(body)).toEqual(body);

describe('drop-in midjourney-proxy API (/mj)', () => {
  let stack: TestStack;
  let project: Project;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    stack = await startStack({
      env: { TASK_POLL_MIN_MS: '100', TASK_POLL_MAX_MS: '400', MJ_POLL_WINDOW_MS: '10', LANE_MJ_RPM: '100000', LANE_VIDEO_RPM: '100000' },
    });
    project = await stack.createProject();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        received.push({ path: req.url ?? '', headers: req.headers, body });
        // the flaky hook refuses its first delivery: the next one comes on the retry schedule
        const flaky = req.url === '/flaky-hook' && received.filter((r) => r.path === '/flaky-hook').length === 1;
        res.writeHead(flaky ? 503 : 200).end(flaky ? 'busy' : 'ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await stopStack(stack);
  });

  /** A midjourney-proxy client: its secret in `mj-api-secret`, JSON bodies. */
  const mjPost = (path: string, body: unknown, secret = project.key, headers: Record<string, string> = {}) =>
    stack.api.post(path, { rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json', 'mj-api-secret': secret, ...headers } });
  const mjGet = (path: string, secret = project.key) => stack.api.get(path, { headers: { 'mj-api-secret': secret } });

  /** Polls `fetch` as the clients do, until the task is final. */
  async function pollUntilFinal(id: string): Promise<any> {
    const task = await eventually(
      async () => (await mjGet(`/mj/task/${id}/fetch`)).body,
      (t: any) => ['SUCCESS', 'FAILURE', 'CANCEL'].includes(t?.status),
      90_000,
      `task ${id} final`,
    );
    return task;
  }

  async function downloadImage(url: string): Promise<Buffer> {
    // a plain GET with no key: the link is signed
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\//);
    return Buffer.from(await res.arrayBuffer());
  }

  let imagineId: string;
  let upscaleId: string;

  it('imagine → poll fetch until SUCCESS → action U1 from buttons → fetch → download imageUrl bytes; notifyHook gets each status', async () => {
    // a genqueue endpoint of the project: it gets the signed genqueue webhook of the same jobs
    const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: `${receiverUrl}/genqueue`, event_types: ['job.succeeded'] } });
    expect(endpoint.status).toBe(201);

    const submitted = await mjPost('/mj/submit/imagine', {
      base64Array: [],
      botType: 'MID_JOURNEY',
      notifyHook: `${receiverUrl}/mj-hook`,
      prompt: 'a red fox in snow --ar 3:2 --v 7',
      state: 'order-1001',
      accountFilter: ACCOUNT_FILTER,
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ code: 1, description: expect.any(String), result: expect.stringMatching(/^job_[0-9A-Z]{26}$/) });
    imagineId = submitted.body.result;
    expectShape(MjSubmitResultSchema, submitted.body);

    const task = await pollUntilFinal(imagineId);
    expect(task).toMatchObject({
      id: imagineId,
      action: 'IMAGINE',
      status: 'SUCCESS',
      progress: '100%',
      prompt: 'a red fox in snow --ar 3:2 --v 7',
      promptEn: expect.stringContaining('a red fox in snow'),
      state: 'order-1001',
      failReason: '',
      description: expect.any(String),
      submitTime: expect.any(Number),
      startTime: expect.any(Number),
      finishTime: expect.any(Number),
      properties: expect.objectContaining({ finalPrompt: expect.any(String) }),
    });
    expectShape(MjTaskSchema, task);
    expect(task.finishTime).toBeGreaterThanOrEqual(task.startTime);
    expect(task.startTime).toBeGreaterThanOrEqual(task.submitTime);
    expect(task.imageUrl.startsWith(`${stack.apiUrl}/v1/artifacts/`)).toBe(true);
    expect(task.buttons.length).toBeGreaterThan(0);
    for (const b of task.buttons) expect(b).toEqual({ customId: expect.stringMatching(/^MJ::/), label: expect.any(String), emoji: expect.any(String), type: 2, style: 2 });

    // the bytes are our stored copy: the job's artifact
    const job = (await stack.api.get(`/v1/jobs/${imagineId}`, { key: project.key })).body;
    expect(job.type).toBe('mj.imagine');
    expect(sha256(await downloadImage(task.imageUrl))).toBe(job.artifacts[0].sha256);

    // upscale U1 with the customId of its button, as a gateway client sends it (Authorization: Bearer)
    const u1 = task.buttons.find((b: any) => b.label === 'U1') ?? task.buttons.find((b: any) => b.customId.includes('upsample::1'));
    expect(u1).toBeDefined();
    const action = await stack.api.post('/mj/submit/action', {
      key: project.key,
      body: { chooseSameChannel: true, customId: u1.customId, taskId: imagineId, accountFilter: ACCOUNT_FILTER, notifyHook: '', state: '' },
    });
    expect(action.status).toBe(200);
    expect(action.body.code).toBe(1);
    upscaleId = action.body.result;
    const upscaled = await pollUntilFinal(upscaleId);
    expect(upscaled).toMatchObject({ id: upscaleId, action: 'UPSCALE', status: 'SUCCESS', progress: '100%', customId: u1.customId, prompt: 'a red fox in snow --ar 3:2 --v 7' });
    expect(upscaled.properties.parentTaskId).toBe(imagineId);
    const upscaledJob = (await stack.api.get(`/v1/jobs/${upscaleId}`, { key: project.key })).body;
    expect(upscaledJob).toMatchObject({ type: 'mj.action', parent_id: imagineId });
    const bytes = await downloadImage(upscaled.imageUrl);
    expect(sha256(bytes)).toBe(upscaledJob.artifacts[0].sha256);
    expect(sha256(bytes)).not.toBe(job.artifacts[0].sha256);

    // notifyHook: the task object POSTed as JSON on its changes, ending with SUCCESS
    const hooks = await eventually(
      async () => received.filter((r) => r.path === '/mj-hook' && r.body?.id === imagineId),
      (list) => list.some((r) => r.body.status === 'SUCCESS'),
      30_000,
      'notifyHook SUCCESS',
    );
    for (const hook of hooks) {
      expectShape(MjTaskSchema, hook.body);
      expect(hook.headers['content-type']).toBe('application/json');
      expect(hook.body).toMatchObject({ id: imagineId, action: 'IMAGINE', state: 'order-1001', progress: expect.stringMatching(/^\d{1,3}%$/) });
    }
    const statuses = hooks.map((h) => h.body.status);
    expect(statuses[statuses.length - 1]).toBe('SUCCESS');
    expect(statuses.filter((s) => s === 'SUCCESS')).toHaveLength(1);
    expect(statuses.length).toBeGreaterThan(1);
    const final = hooks[hooks.length - 1]!.body;
    expect(sha256(await downloadImage(final.imageUrl))).toBe(job.artifacts[0].sha256);
    // the action had an empty notifyHook: nothing is posted for it
    expect(received.some((r) => r.path === '/mj-hook' && r.body?.id === upscaleId)).toBe(false);

    // and the project's endpoint got the signed genqueue webhook of the same job
    const signed = await eventually(
      async () => received.find((r) => r.path === '/genqueue' && r.body?.data?.id === imagineId),
      (r) => r !== undefined,
      30_000,
      'signed genqueue webhook',
    );
    expect(signed!.body.type).toBe('job.succeeded');
    expect(signed!.headers['webhook-signature']).toMatch(/^v1,/);
  }, 180_000);

  it('Vary (Region): action → task in MODAL → modal with maskBase64 and prompt → SUCCESS', async () => {
    const upscaled = (await mjGet(`/mj/task/${upscaleId}/fetch`)).body;
    const varyRegion = upscaled.buttons.find((b: any) => b.customId.startsWith('MJ::Inpaint'));
    expect(varyRegion).toBeDefined();
    const action = await mjPost('/mj/submit/action', { taskId: upscaleId, customId: varyRegion.customId, state: 'vary-1' });
    expect(action.body.code).toBe(1);
    const waiting = await eventually(
      async () => (await mjGet(`/mj/task/${action.body.result}/fetch`)).body,
      (t: any) => t.status === 'MODAL' || ['SUCCESS', 'FAILURE'].includes(t.status),
      60_000,
      'the action in MODAL',
    );
    expect(waiting).toMatchObject({ status: 'MODAL', action: 'INPAINT', imageUrl: '', finishTime: null });
    expectShape(MjTaskSchema, waiting);

    const modal = await mjPost('/mj/submit/modal', { taskId: action.body.result, prompt: 'add a red boat', maskBase64: dataUrl(makePng(8, { seed: 9 })) });
    expect(modal.status).toBe(200);
    expect(modal.body.code).toBe(1);
    const done = await pollUntilFinal(modal.body.result);
    expect(done).toMatchObject({ action: 'MODAL', status: 'SUCCESS', prompt: 'add a red boat' });
    await downloadImage(done.imageUrl);
    // the action's own task finishes with the same image
    const actionDone = await pollUntilFinal(action.body.result);
    expect(actionDone).toMatchObject({ status: 'SUCCESS', action: 'INPAINT', state: 'vary-1' });
  }, 180_000);

  it('list-by-condition answers the tasks of the given ids (unknown ids left out), image-seed the seed', async () => {
    const list = await mjPost('/mj/task/list-by-condition', { ids: [upscaleId, 'job_00000000000000000000000000', imagineId, '1750000123456789'] });
    expect(list.status).toBe(200);
    expect(list.body.map((t: any) => [t.id, t.status])).toEqual([
      [upscaleId, 'SUCCESS'],
      [imagineId, 'SUCCESS'],
    ]);
    expect((await mjPost('/mj/task/list-by-condition', { ids: [] })).body).toEqual([]);

    const seed = await mjGet(`/mj/task/${imagineId}/image-seed`);
    expect(seed.status).toBe(200);
    expect(seed.body).toEqual({ code: 1, description: expect.any(String), result: expect.stringMatching(/^\d+$/) });
    expectShape(MjImageSeedSchema, seed.body);
    const job = (await stack.api.get(`/v1/jobs/${imagineId}`, { key: project.key })).body;
    expect(seed.body.result).toBe(String(job.output.seed));

    // another project sees none of them
    const other = await stack.createProject();
    expect((await mjPost('/mj/task/list-by-condition', { ids: [imagineId] }, other.key)).body).toEqual([]);
    const foreign = await mjGet(`/mj/task/${imagineId}/fetch`, other.key);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 3, result: null });
  }, 60_000);

  it('blend and describe take their images as data URLs (stored as files of the project)', async () => {
    const files = await countFileRows(project.id);
    const blend = await mjPost('/mj/submit/blend', {
      botType: 'MID_JOURNEY',
      base64Array: [dataUrl(makePng(8, { seed: 1 })), dataUrl(makePng(8, { seed: 2 }))],
      dimensions: 'SQUARE',
      accountFilter: ACCOUNT_FILTER,
      notifyHook: '',
      state: '',
    });
    expect(blend.status).toBe(200);
    expect(blend.body.code).toBe(1);
    const describe = await mjPost('/mj/submit/describe', { botType: 'MID_JOURNEY', base64: dataUrl(makePng(8, { seed: 3 })), accountFilter: ACCOUNT_FILTER, notifyHook: '', state: '' });
    expect(describe.status).toBe(200);
    expect(await countFileRows(project.id)).toBe(files + 3);

    const blended = await pollUntilFinal(blend.body.result);
    expect(blended).toMatchObject({ action: 'BLEND', status: 'SUCCESS' });
    await downloadImage(blended.imageUrl);
    const described = await pollUntilFinal(describe.body.result);
    expect(described).toMatchObject({ action: 'DESCRIBE', status: 'SUCCESS', imageUrl: '' });
    expect(described.prompt.length).toBeGreaterThan(0);
  }, 180_000);

  it('a failed task: FAILURE with failReason; the notifyHook that refused a delivery gets the task again later', async () => {
    const submitted = await mjPost('/mj/submit/imagine', { prompt: 'a broken render sim:fail', notifyHook: `${receiverUrl}/flaky-hook`, state: 's-2' });
    expect(submitted.body.code).toBe(1);
    const id = submitted.body.result;
    const task = await pollUntilFinal(id);
    expect(task).toMatchObject({ id, status: 'FAILURE', progress: '100%', imageUrl: '', buttons: [] });
    expect(task.failReason.length).toBeGreaterThan(0);
    const job = (await stack.api.get(`/v1/jobs/${id}`, { key: project.key })).body;
    expect(job.status).toBe('failed');
    expect(task.failReason).toBe(job.error.message);

    const hooks = await eventually(
      async () => received.filter((r) => r.path === '/flaky-hook'),
      (list) => list.some((r) => r.body?.status === 'FAILURE'),
      30_000,
      'FAILURE delivered to the flaky hook',
    );
    // the first delivery was refused (503); it came again, with the task as it was by then
    expect(hooks.length).toBeGreaterThan(1);
    expect(hooks[hooks.length - 1]!.body).toMatchObject({ id, status: 'FAILURE', state: 's-2', failReason: task.failReason });
  }, 120_000);

  it('an Idempotency-Key replays the same task; with another body it is refused', async () => {
    const before = await countJobRows(project.id);
    const body = { prompt: 'a quiet harbour at dawn', base64Array: [], notifyHook: '', state: '' };
    const first = await mjPost('/mj/submit/imagine', body, project.key, { 'Idempotency-Key': 'mj-client-42' });
    const again = await mjPost('/mj/submit/imagine', body, project.key, { 'Idempotency-Key': 'mj-client-42' });
    expect(first.body.code).toBe(1);
    expect(again.body).toMatchObject({ code: 1, result: first.body.result });
    const other = await mjPost('/mj/submit/imagine', { ...body, prompt: 'something else' }, project.key, { 'Idempotency-Key': 'mj-client-42' });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 4, result: null });
    expect(await countJobRows(project.id)).toBe(before + 1);
  });

  it('bad requests: a 4xx in midjourney-proxy shape, and nothing stored', async () => {
    const jobs = await countJobRows(project.id);
    const files = await countFileRows(project.id);
    const cases: Array<[string, unknown, number, number, string?]> = [
      ['/mj/submit/imagine', { base64Array: [], notifyHook: '', state: '' }, 400, 4, 'prompt'],
      ['/mj/submit/imagine', { prompt: '   ' }, 400, 4, 'prompt'],
      ['/mj/submit/imagine', ['a red fox'], 400, 4, '(body)'],
      ['/mj/submit/imagine', { prompt: 'a red\u0000fox' }, 400, 4, 'prompt'],
      ['/mj/submit/imagine', { prompt: 'x', base64Array: 'data:image/png;base64,AAAA' }, 400, 4, 'base64Array'],
      ['/mj/submit/imagine', { prompt: 'x', botType: 'DALL_E' }, 400, 4, 'botType'],
      ['/mj/submit/imagine', { prompt: 'x', notifyHook: 'ftp://example.org/hook' }, 400, 4, 'notifyHook'],
      ['/mj/submit/imagine', { prompt: 'x', base64Array: ['data:image/png;base64,SGVsbG8gd29ybGQ='] }, 400, 4, 'base64Array.0'],
      ['/mj/submit/blend', { base64Array: [dataUrl(makePng(8))] }, 400, 4, 'base64Array'],
      ['/mj/submit/blend', { base64Array: [dataUrl(makePng(8)), 'not a data url'] }, 400, 4, 'base64Array.1'],
      ['/mj/submit/blend', { base64Array: [dataUrl(makePng(8)), dataUrl(makePng(9))], dimensions: 'WIDE' }, 400, 4, 'dimensions'],
      ['/mj/submit/describe', { botType: 'MID_JOURNEY' }, 400, 4, 'base64'],
      ['/mj/submit/action', { taskId: imagineId, customId: 'MJ::JOB::upsample::9::nope' }, 400, 4, 'customId'],
      ['/mj/submit/action', { taskId: '1750000123456789', customId: 'MJ::JOB::upsample::1::abc' }, 404, 3],
      ['/mj/submit/action', { customId: 'MJ::JOB::upsample::1::abc' }, 400, 4, 'taskId'],
      ['/mj/submit/modal', { taskId: imagineId, prompt: 'more', maskBase64: '' }, 400, 4, 'taskId'],
    ];
    for (const [path, body, status, code, field] of cases) {
      const res = await mjPost(path, body);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.body).toMatchObject({ code, description: expect.any(String), result: null });
      expectShape(MjErrorSchema, res.body);
      if (field) expect(res.body.properties.details.map((d: any) => d.path)).toContain(field);
    }
    // not JSON
    const broken = await stack.api.post('/mj/submit/imagine', { rawBody: '{"prompt":', headers: { 'content-type': 'application/json', 'mj-api-secret': project.key } });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 4, result: null });
    expect(await countJobRows(project.id)).toBe(jobs);
    expect(await countFileRows(project.id)).toBe(files);

    // routes of midjourney-proxy genqueue does not serve answer in the same shape
    const cancel = await mjPost('/mj/task/job_00000000000000000000000000/cancel', {});
    expect(cancel.status).toBe(404);
    expectShape(MjErrorSchema, cancel.body);
    const unknown = await mjGet('/mj/task/job_00000000000000000000000000/fetch');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 3, result: null });
    const foreignSeed = await mjGet(`/mj/task/${imagineId}/image-seed`, (await stack.createProject()).key);
    expect(foreignSeed.status).toBe(404);
  });

  it('auth: mj-api-secret or Bearer; a missing or wrong key is a 401 in the same shape; rate limits as on /v1/jobs', async () => {
    expect((await stack.api.get(`/mj/task/${imagineId}/fetch`, { key: project.key })).status).toBe(200);
    // midjourney-proxy clients of the gateway send `Authorization: midjourney-proxy` beside the secret
    const both = await stack.api.get(`/mj/task/${imagineId}/fetch`, { headers: { authorization: 'midjourney-proxy', 'mj-api-secret': project.key } });
    expect(both.status).toBe(200);
    const none = await stack.api.post('/mj/submit/imagine', { body: { prompt: 'x' } });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ code: 4, result: null, properties: { error_code: 'unauthorized' } });
    const wrong = await mjPost('/mj/submit/imagine', { prompt: 'x' }, 'gq_not_a_key');
    expect(wrong.status).toBe(401);

    const limited = await stack.createProject({ requests_per_minute: 2 });
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await mjPost('/mj/task/list-by-condition', { ids: [] }, limited.key));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2]!.body).toMatchObject({ code: 23, result: null });
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
  it('notifyHook is durable: an API killed right after the submit, the next API process delivers the final task', async () => {
    const submitted = await mjPost('/mj/submit/imagine', { prompt: 'a lantern in the fog', notifyHook: `${receiverUrl}/restart-hook` });
    expect(submitted.body.code).toBe(1);
    const id = submitted.body.result;
    await stack.restartApi('SIGKILL');
    const hooks = await eventually(
      async () => received.filter((r) => r.path === '/restart-hook' && r.body?.id === id),
      (list) => list.some((r) => r.body.status === 'SUCCESS'),
      90_000,
      'SUCCESS delivered after the restart',
    );
    expect(hooks.filter((h) => h.body.status === 'SUCCESS')).toHaveLength(1);
    expect((await mjGet(`/mj/task/${id}/fetch`)).body.status).toBe('SUCCESS');
  }, 180_000);
});
