import { createHash } from 'node:crypto';
import { editSeed, generationSeed, renderPng, type RunningSimulator } from '../src';
import { AUTH, authed, boot, call, readPng } from './helpers';

const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const b64Sha = (b64: string): string => sha256(Buffer.from(b64, 'base64'));

type ImageData = { url?: string; b64_json?: string; revised_prompt?: string };
type ImagesBody = { created: number; data: ImageData[]; [k: string]: unknown };

describe('POST /v1/images/generations', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Fast time: the 3600 s URL lifetime becomes 60 s of simulated clock.
    sim = await boot({ fastTime: true });
  });
  afterAll(() => sim.close());

  it('answers dall-e-3 with signed URLs to the PNG of its seed', async () => {
    const res = await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'a fluffy cat' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ImagesBody;
    expect(body.data).toHaveLength(1);
    const [image] = body.data as [ImageData];
    expect(image.revised_prompt).toContain('a fluffy cat');
    expect(image.url).toMatch(new RegExp(`^${sim.url}/_sim/blobs/img_\\w+\\.png\\?se=\\d+&sig=[\\w-]+$`));
    const png = await fetch(image.url as string);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(renderPng(generationSeed('dall-e-3', 'a fluffy cat', 0))));
  });

  it('lets the signed URL expire after the TTL, like an Azure blob', async () => {
    const body = (await (await authed(sim, '/v1/images/generations', { model: 'dall-e-2', prompt: 'x', n: 2 })).json()) as ImagesBody;
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).not.toHaveProperty('revised_prompt');
    const url = body.data[0]?.url as string;
    expect((await fetch(url)).status).toBe(200);
    sim.state.clock.advance(61_000);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(expired.headers.get('content-type')).toMatch(/xml/);
    expect(await expired.text()).toContain('<Code>AuthenticationFailed</Code>');
    expect((await fetch(url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
    expect((await fetch(url.split('?')[0] as string)).status).toBe(404);
    expect((await fetch(`${sim.url}/_sim/blobs/img_missing.png`)).status).toBe(404);
  });

  it('returns b64_json for dall-e when asked', async () => {
    const body = (await (await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'p', response_format: 'b64_json' })).json()) as ImagesBody;
    expect(b64Sha(body.data[0]?.b64_json as string)).toBe(sha256(renderPng(generationSeed('dall-e-3', 'p', 0))));
  });

  it('answers gpt-image models with b64_json, usage, size, quality and output_format', async () => {
    const res = await authed(sim, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a red bicycle', n: 2, size: '1536x1024', quality: 'high' });
    const body = (await res.json()) as ImagesBody;
    expect(body).toMatchObject({ output_format: 'png', quality: 'high', size: '1536x1024', background: 'opaque' });
    expect(body['usage']).toMatchObject({ output_tokens: 2 * 4160, input_tokens_details: { image_tokens: 0 } });
    expect(body.data.map((d) => b64Sha(d.b64_json as string))).toEqual([0, 1].map((i) => sha256(renderPng(generationSeed('gpt-image-1', 'a red bicycle', i)))));
    expect(body.data[0]).not.toHaveProperty('url');
    readPng(Buffer.from(body.data[0]?.b64_json as string, 'base64'));
  });

  it('answers other models with the gateway-made shape (empty strings)', async () => {
    const body = (await (await authed(sim, '/v1/images/generations', { model: 'qwen-image', prompt: 'q', size: '1328*1328' })).json()) as ImagesBody;
    expect(body.data[0]).toMatchObject({ url: '', revised_prompt: '' });
    expect(b64Sha(body.data[0]?.b64_json as string)).toBe(sha256(renderPng(generationSeed('qwen-image', 'q', 0))));
  });

  it('reproduces the gateway errors: missing model, unknown model, sizes', async () => {
    const missing = await authed(sim, '/v1/images/generations', { prompt: 'a cat' });
    expect(missing.status).toBe(500);
    const missingBody = (await missing.json()) as { error: Record<string, unknown> };
    expect(missingBody.error).toMatchObject({ type: 'new_api_error', param: '', code: 'invalid_request' });
    expect(missingBody.error['message']).toMatch(/^model is required \(request id: /);

    const unknown = await authed(sim, '/v1/images/generations', { model: 'flux-x', prompt: 'a cat' });
    expect(unknown.status).toBe(503);
    const unknownBody = (await unknown.json()) as { error: Record<string, unknown> };
    expect(unknownBody.error).toMatchObject({ type: 'new_api_error', code: 'model_not_found' });
    expect(unknownBody.error['message']).toMatch(/^No available channel for model flux-x under group default \(distributor\) \(request id: /);

    for (const [model, size] of [['dall-e-2', '1024x1792'], ['dall-e-3', '512x512'], ['gpt-image-1', '1024×1024']]) {
      const res = await authed(sim, '/v1/images/generations', { model, prompt: 'a cat', size });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    const tooMany = await authed(sim, '/v1/images/generations', { model: 'dall-e-3', prompt: 'a cat', n: 2 });
    expect(tooMany.status).toBe(400);
  });

  it('refuses a banned prompt with 400 content_policy_violation and charges nothing', async () => {
    const before = sim.state.balance.used;
    for (const prompt of ['a FORBIDDEN thing', '一个违禁的东西']) {
      const res = await authed(sim, '/v1/images/generations', { model: 'gpt-image-1', prompt });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          message: expect.stringMatching(/^Your request was rejected as a result of our safety system/),
          type: 'invalid_request_error',
          param: '',
          code: 'content_policy_violation',
        },
      });
    }
    expect(sim.state.balance.used).toBe(before);
  });

  it('uses a configurable banned-word list', async () => {
    const own = await boot({ bannedWords: ['kraken'] });
    try {
      expect((await authed(own, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'forbidden' })).status).toBe(200);
      expect((await authed(own, '/v1/images/generations', { model: 'gpt-image-1', prompt: 'a Kraken' })).status).toBe(400);
    } finally {
      await own.close();
    }
  });
});

describe('POST /v1/images/edits', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await boot();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.state.reset());

  const inputA = renderPng('input-a', 8);
  const inputB = renderPng('input-b', 8);

  it('takes multipart images (image and image[]) and a mask, records the parts and derives the output from the inputs', async () => {
    const form = new FormData();
    form.append('model', 'gpt-image-1');
    form.append('prompt', 'add a hat');
    form.append('n', '1');
    form.append('size', '1024x1024');
    form.append('image[]', new Blob([inputA], { type: 'image/png' }), 'a.png');
    form.append('image[]', new Blob([inputB], { type: 'image/png' }), 'b.png');
    form.append('mask', new Blob([inputA], { type: 'image/png' }), 'mask.png');
    const res = await call(sim, '/v1/images/edits', { method: 'POST', headers: AUTH, body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ImagesBody;
    const expected = renderPng(editSeed('gpt-image-1', 'add a hat', 0, [sha256(inputA), sha256(inputB)]));
    expect(b64Sha(body.data[0]?.b64_json as string)).toBe(sha256(expected));
    expect(b64Sha(body.data[0]?.b64_json as string)).not.toBe(sha256(renderPng(generationSeed('gpt-image-1', 'add a hat', 0))));
    expect(body['usage']).toMatchObject({ input_tokens_details: { image_tokens: 2 * 323 } });

    const [upload] = sim.state.uploads;
    expect(upload?.fields).toEqual({ model: 'gpt-image-1', prompt: 'add a hat', n: '1', size: '1024x1024' });
    expect(upload?.files).toEqual([
      { field: 'image[]', filename: 'a.png', contentType: 'image/png', bytes: inputA.length, sha256: sha256(inputA) },
      { field: 'image[]', filename: 'b.png', contentType: 'image/png', bytes: inputB.length, sha256: sha256(inputB) },
      { field: 'mask', filename: 'mask.png', contentType: 'image/png', bytes: inputA.length, sha256: sha256(inputA) },
    ]);

    const overHttp = (await (await call(sim, '/_sim/uploads')).json()) as { uploads: { files: { content_type: string }[] }[] };
    expect(overHttp.uploads[0]?.files[0]?.content_type).toBe('image/png');
  });

  it('answers dall-e-2 edits with a URL, and a single `image` part works too', async () => {
    const form = new FormData();
    form.append('model', 'dall-e-2');
    form.append('prompt', 'p');
    form.append('image', new Blob([inputA], { type: 'image/png' }), 'a.png');
    const body = (await (await call(sim, '/v1/images/edits', { method: 'POST', headers: AUTH, body: form })).json()) as ImagesBody;
    const png = Buffer.from(await (await fetch(body.data[0]?.url as string)).arrayBuffer());
    expect(sha256(png)).toBe(sha256(renderPng(editSeed('dall-e-2', 'p', 0, [sha256(inputA)]))));
  });

  it('answers 400 when no image part arrived, and still records the request', async () => {
    const form = new FormData();
    form.append('model', 'gpt-image-1');
    form.append('prompt', 'p');
    form.append('mask', new Blob([inputA], { type: 'image/png' }), 'mask.png');
    const res = await call(sim, '/v1/images/edits', { method: 'POST', headers: AUTH, body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('image');
    expect(sim.state.uploads[0]?.files.map((f) => f.field)).toEqual(['mask']);
  });

  it('accepts a JSON body with base64 images', async () => {
    const res = await authed(sim, '/v1/images/edits', { model: 'gpt-image-1', prompt: 'p', image: `data:image/png;base64,${inputB.toString('base64')}` });
    const body = (await res.json()) as ImagesBody;
    expect(b64Sha(body.data[0]?.b64_json as string)).toBe(sha256(renderPng(editSeed('gpt-image-1', 'p', 0, [sha256(inputB)]))));
  });
});
