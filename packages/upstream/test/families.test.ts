import { requireGeminiImages, UpstreamError } from '../src';
import { closeGateways, gateway, KEY, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, routes, sendJson, type Handler, type LocalServer } from './helpers/local-server';

afterEach(closeGateways);

const bodyJson = (server: LocalServer, index = 0): unknown => JSON.parse(server.requests[index]?.body.toString('utf8') ?? 'null');

describe('images', () => {
  it('generate: sends the OpenAI body and reads the dall-e URL shape', async () => {
    const { server, client } = await gateway(
      routes({
        'POST /v1/images/generations': (_req, res) =>
          sendJson(res, 200, {
            created: 1750000000,
            data: [{ url: 'https://oaidalleapiprodscus.blob.core.windows.net/private/x.png?se=1&sig=2', revised_prompt: 'A fluffy orange cat' }],
          }),
      }),
    );
    const result = await client.images.generate({
      model: 'dall-e-3',
      prompt: 'a cat',
      n: 1,
      size: '1024x1024',
      quality: 'hd',
      responseFormat: 'url',
      extra: { style: 'vivid', model: 'ignored' },
    });
    expect(result).toEqual({
      created: 1750000000,
      images: [{ url: 'https://oaidalleapiprodscus.blob.core.windows.net/private/x.png?se=1&sig=2', revisedPrompt: 'A fluffy orange cat' }],
    });
    expect(bodyJson(server)).toEqual({ style: 'vivid', model: 'dall-e-3', prompt: 'a cat', n: 1, size: '1024x1024', quality: 'hd', response_format: 'url' });
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('generate: reads the gpt-image shape with usage', async () => {
    const { server, client } = await gateway((_req, res) =>
      sendJson(res, 200, {
        created: 1750000000,
        background: 'opaque',
        output_format: 'png',
        quality: 'high',
        size: '1024x1024',
        data: [{ b64_json: 'iVBORw0KGgoAAA' }],
        usage: { input_tokens: 50, output_tokens: 4160, total_tokens: 4210, input_tokens_details: { text_tokens: 50, image_tokens: 0 } },
      }),
    );
    const result = await client.images.generate({ model: 'gpt-image-1', prompt: 'a cat' });
    expect(result).toEqual({
      created: 1750000000,
      images: [{ b64Json: 'iVBORw0KGgoAAA' }],
      usage: { inputTokens: 50, outputTokens: 4160, totalTokens: 4210 },
      outputFormat: 'png',
    });
    expect(bodyJson(server)).toEqual({ model: 'gpt-image-1', prompt: 'a cat' });
  });

  it('generate: treats the gateway-made empty strings as absent', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, { created: 1750000000, data: [{ url: '', b64_json: 'data:image/png;base64,iVBORw0KGgo', revised_prompt: '' }] }),
    );
    const result = await client.images.generate({ model: 'imagen-4', prompt: 'a cat' });
    expect(result.images).toEqual([{ b64Json: 'iVBORw0KGgo' }]);
  });

  it('generate: HTTP 200 without any image is rejected', async () => {
    const { client } = await gateway((_req, res) => sendJson(res, 200, { created: 1750000000, data: [] }));
    const err = await upstreamRejection(client.images.generate({ model: 'gpt-image-1', prompt: 'x' }));
    expect(err.kind).toBe('rejected');
    expect(err.requestId).toBe(REQUEST_ID);
  });

  it('generate: gateway validation (500 invalid_request) and missing channel (503 model_not_found) are rejected', async () => {
    let call = 0;
    const { client } = await gateway((_req, res) => {
      call += 1;
      if (call === 1) {
        sendJson(res, 500, {
          error: { message: `size must be one of 1024x1024, 1024x1792 or 1792x1024 for dall-e-3 (request id: ${REQUEST_ID})`, type: 'new_api_error', param: '', code: 'invalid_request' },
        });
      } else {
        sendJson(res, 503, {
          error: { message: `No available channel for model dall-e-9 under group default (distributor) (request id: ${REQUEST_ID})`, type: 'new_api_error', code: 'model_not_found' },
        });
      }
    });
    const invalid = await upstreamRejection(client.images.generate({ model: 'dall-e-3', prompt: 'x', size: '512x512' }));
    expect(invalid).toMatchObject({ kind: 'rejected', httpStatus: 500, upstreamCode: 'invalid_request', requestId: REQUEST_ID });
    const noChannel = await upstreamRejection(client.images.generate({ model: 'dall-e-9', prompt: 'x' }));
    expect(noChannel).toMatchObject({ kind: 'rejected', httpStatus: 503, upstreamCode: 'model_not_found' });
    expect(noChannel.message).toMatch(/no channel or model on the gateway serves this model/);
  });

  it('generate: an error envelope on HTTP 200 is classified', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, { error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error', code: 'content_policy_violation' } }),
    );
    const err = await upstreamRejection(client.images.generate({ model: 'dall-e-3', prompt: 'x' }));
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 200, upstreamCode: 'content_policy_violation' });
  });

  it('edit: sends multipart with repeated image parts, mask and fields', async () => {
    let form: globalThis.FormData | undefined;
    const { server, client } = await gateway(
      routes({
        'POST /v1/images/edits': async (req, res, body) => {
          form = await new Request('http://local/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body }).formData();
          sendJson(res, 200, { created: 1750000001, data: [{ b64_json: 'RURJVA==' }] });
        },
      }),
    );
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const jpg = Buffer.from([0xff, 0xd8, 0xff, 4, 5]);
    const result = await client.images.edit({
      model: 'gpt-image-1',
      prompt: 'put them together',
      n: 2,
      size: '1024x1024',
      images: [
        { filename: 'a.png', contentType: 'image/png', data: png },
        { filename: 'b.jpg', contentType: 'image/jpeg', data: jpg },
      ],
      mask: { filename: 'mask.png', contentType: 'image/png', data: png },
      extra: { background: 'transparent', watermark: false },
    });
    expect(result.images).toEqual([{ b64Json: 'RURJVA==' }]);
    expect(server.requests[0]?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(server.requests[0]?.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(form?.get('model')).toBe('gpt-image-1');
    expect(form?.get('prompt')).toBe('put them together');
    expect(form?.get('n')).toBe('2');
    expect(form?.get('size')).toBe('1024x1024');
    expect(form?.get('background')).toBe('transparent');
    expect(form?.get('watermark')).toBe('false');
    const images = (form?.getAll('image') ?? []) as File[];
    expect(images.map((f) => [f.name, f.type])).toEqual([
      ['a.png', 'image/png'],
      ['b.jpg', 'image/jpeg'],
    ]);
    expect(Buffer.from(await (images[1] as File).arrayBuffer())).toEqual(jpg);
    const mask = form?.get('mask') as File;
    expect(mask.name).toBe('mask.png');
    expect(Buffer.from(await mask.arrayBuffer())).toEqual(png);
  });
});

describe('gemini', () => {
  const geminiResponse = {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: 'thinking…', thought: true },
            { text: 'Here is a cat in 16:9.' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAB4AAAAQ4CAIAAAB' } },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 1296, totalTokenCount: 1302, candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1290 }] },
    modelVersion: 'gemini-2.5-flash-image',
    responseId: 'mU0RaPqCJ',
  };

  it('generateContent: sends the native body and reads camelCase parts', async () => {
    const { server, client } = await gateway(
      routes({ 'POST /v1beta/models/gemini-2.5-flash-image:generateContent': (_req, res) => sendJson(res, 200, geminiResponse) }),
    );
    const result = await client.gemini.generateContent('models/gemini-2.5-flash-image', {
      prompt: 'draw a cat',
      images: [{ mimeType: 'image/png', data: Buffer.from('png-bytes') }],
      aspectRatio: '16:9',
    });
    expect(result).toEqual({
      parts: [{ text: 'Here is a cat in 16:9.' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAB4AAAAQ4CAIAAAB' } }],
      finishReason: 'STOP',
      usage: { promptTokens: 6, candidatesTokens: 1296, totalTokens: 1302 },
      modelVersion: 'gemini-2.5-flash-image',
    });
    expect(bodyJson(server)).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'draw a cat' }, { inlineData: { mimeType: 'image/png', data: Buffer.from('png-bytes').toString('base64') } }] }],
      generationConfig: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '16:9' } },
    });
    expect(server.requests[0]?.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(requireGeminiImages(result)).toEqual([{ mimeType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAB4AAAAQ4CAIAAAB' }]);
  });

  it('generateContent: accepts inline_data / mime_type', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, { candidates: [{ content: { parts: [{ inline_data: { mime_type: 'image/jpeg', data: '/9j/4AAQ' } }] }, finish_reason: 'STOP' }] }),
    );
    const result = await client.gemini.generateContent('gemini-3-pro-image-preview', { prompt: 'x' });
    expect(result.parts).toEqual([{ inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }]);
    expect(result.finishReason).toBe('STOP');
  });

  it('a safety block has no image: requireGeminiImages throws rejected with the reason', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 200, { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'IMAGE_SAFETY', index: 0 }], promptFeedback: {} }),
    );
    const result = await client.gemini.generateContent('gemini-2.5-flash-image', { prompt: 'x' });
    expect(result.finishReason).toBe('IMAGE_SAFETY');
    let thrown: unknown;
    try {
      requireGeminiImages(result);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect(thrown).toMatchObject({ kind: 'rejected', upstreamCode: 'IMAGE_SAFETY' });
    expect(() => requireGeminiImages({ parts: [], blockReason: 'PROHIBITED_CONTENT' })).toThrow(/blockReason PROHIBITED_CONTENT/);
  });

  it('errors on this route use E2 with the numeric upstream code', async () => {
    const { client } = await gateway((_req, res) =>
      sendJson(res, 400, { error: { message: 'Request contains an invalid argument.', type: 'upstream_error', param: '', code: 400 } }),
    );
    const err = await upstreamRejection(client.gemini.generateContent('gemini-2.5-flash-image', { prompt: 'x' }));
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 400, upstreamCode: '400', upstreamType: 'upstream_error' });
  });
});

describe('account', () => {
  it('listModels reads the OpenAI-format list', async () => {
    const { client } = await gateway(
      routes({
        'GET /v1/models': (_req, res) =>
          sendJson(res, 200, {
            success: true,
            object: 'list',
            data: [
              { id: 'gpt-4o', object: 'model', created: 1626777600, owned_by: 'openai', supported_endpoint_types: ['openai'] },
              { id: 'sora-2', object: 'model', created: 1626777600, owned_by: 'custom', supported_endpoint_types: ['openai-video'] },
              { id: 'mj_imagine', object: 'model', created: 1626777600, owned_by: 'custom' },
              { object: 'model' },
            ],
          }),
      }),
    );
    expect(await client.account.listModels()).toEqual([
      { id: 'gpt-4o', ownedBy: 'openai', endpointTypes: ['openai'] },
      { id: 'sora-2', ownedBy: 'custom', endpointTypes: ['openai-video'] },
      { id: 'mj_imagine', ownedBy: 'custom' },
    ]);
  });

  const tokenUsage = {
    code: true,
    message: 'ok',
    data: {
      object: 'token_usage',
      name: 'prod-key',
      total_granted: 10000000,
      total_used: 1234567,
      total_available: 8765433,
      unlimited_quota: false,
      model_limits: { 'gpt-4o': true },
      model_limits_enabled: false,
      expires_at: 0,
    },
  };

  const billing: Record<string, Handler> = {
    'GET /v1/dashboard/billing/subscription': (_req, res) =>
      sendJson(res, 200, { object: 'billing_subscription', has_payment_method: true, soft_limit_usd: 20.0, hard_limit_usd: 20.0, system_hard_limit_usd: 20.0, access_until: 1893456000 }),
    'GET /v1/dashboard/billing/usage': (_req, res) => sendJson(res, 200, { object: 'list', total_usage: 123.45 }),
  };

  it('getBalance calls the slash form of /api/usage/token/ (the bare path is a Gin 301) and reads quota units', async () => {
    const { server, client } = await gateway(
      routes({
        'GET /api/usage/token': (_req, res) => {
          res.writeHead(301, { location: '/api/usage/token/' });
          res.end();
        },
        'GET /api/usage/token/': (_req, res) => sendJson(res, 200, tokenUsage),
      }),
    );
    expect(await client.account.getBalance()).toEqual({
      source: 'token_usage',
      totalGranted: 10000000,
      totalUsed: 1234567,
      totalAvailable: 8765433,
      unlimited: false,
      expiresAt: null,
      usd: { hardLimit: 20, used: 2.469134, remaining: 17.530866 },
    });
    expect(server.requests.map((r) => r.path)).toEqual(['/api/usage/token/']);
  });

  it('getBalance reads a token expiry in seconds', async () => {
    const { client } = await gateway((_req, res) => sendJson(res, 200, { ...tokenUsage, data: { ...tokenUsage.data, expires_at: 1893456000, unlimited_quota: true } }));
    const balance = await client.account.getBalance();
    expect(balance.expiresAt).toEqual(new Date(1893456000 * 1000));
    expect(balance.unlimited).toBe(true);
  });

  const firstAnswers: Array<[string, Handler]> = [
    ['a 429 with an empty body', (_req, res) => { res.writeHead(429); res.end(); }],
    ['a 404', (_req, res) => sendJson(res, 404, { error: { message: 'Invalid URL', type: 'invalid_request_error', code: '' } })],
    ['an E7 error on 200', (_req, res) => sendJson(res, 200, { success: false, message: '令牌查询失败' })],
    ['an E7 error on 401', (_req, res) => sendJson(res, 401, { success: false, message: 'Invalid token' })],
    ['the web UI page of an old build', (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><html></html>'); }],
  ];
  it.each(firstAnswers)('getBalance falls back to the billing routes after %s (total_usage in cents)', async (_name, first) => {
    const { server, client } = await gateway(routes({ 'GET /api/usage/token/': first, ...billing }));
    expect(await client.account.getBalance()).toEqual({
      source: 'billing',
      unlimited: false,
      expiresAt: new Date(1893456000 * 1000),
      usd: { hardLimit: 20, used: 1.2345, remaining: 18.7655 },
    });
    expect(server.requests.map((r) => r.path).sort()).toEqual(['/api/usage/token/', '/v1/dashboard/billing/subscription', '/v1/dashboard/billing/usage']);
  });

  it('billing: unlimited tokens show 1e8, and an error on HTTP 200 is thrown', async () => {
    const { client } = await gateway(
      routes({
        'GET /api/usage/token/': (_req, res) => {
          res.writeHead(429);
          res.end();
        },
        'GET /v1/dashboard/billing/subscription': (_req, res) =>
          sendJson(res, 200, { object: 'billing_subscription', hard_limit_usd: 100000000, soft_limit_usd: 100000000, system_hard_limit_usd: 100000000, access_until: 0 }),
        'GET /v1/dashboard/billing/usage': (_req, res) => sendJson(res, 200, { object: 'list', total_usage: 0 }),
      }),
    );
    expect(await client.account.getBalance()).toMatchObject({ source: 'billing', unlimited: true, expiresAt: null });

    const { client: failing } = await gateway(
      routes({
        'GET /api/usage/token/': (_req, res) => sendJson(res, 200, { success: false, message: 'x' }),
        'GET /v1/dashboard/billing/subscription': (_req, res) => sendJson(res, 200, { error: { message: 'token not found', type: 'upstream_error' } }),
        'GET /v1/dashboard/billing/usage': billing['GET /v1/dashboard/billing/usage'] as Handler,
      }),
    );
    const err = await upstreamRejection(failing.account.getBalance());
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 200, upstreamType: 'upstream_error' });
  });

  it('getBalance does not fall back on a 5xx HTML page; it throws retryable', async () => {
    const { server, client } = await gateway((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>502</body></html>');
    });
    const err = await upstreamRejection(client.account.getBalance());
    expect(err.kind).toBe('retryable');
    expect(server.requests).toHaveLength(1);
  });
});
