import type { ServerResponse } from 'node:http';
import { approxTokenCount, decodeBase64Embedding, parseEmbeddingResponse } from '../src';
import { closeGateways, gateway, upstreamRejection } from './helpers/gateway-fixture';
import { REQUEST_ID, sendJson } from './helpers/local-server';

afterEach(closeGateways);

const f32 = (values: number[]): string => {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
};

const bodyOf = (server: { requests: Array<{ body: Buffer }> }, index = 0): unknown => JSON.parse(server.requests[index]?.body.toString('utf8') ?? 'null');

describe('embeddings.create', () => {
  it('asks for base64 by default and decodes little-endian float32, placing vectors by index', async () => {
    const { server, client } = await gateway((_req, res) =>
      sendJson(res, 200, {
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: f32([0.5, -0.25]) },
          { object: 'embedding', index: 0, embedding: f32([1, 0.125]) },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 5, total_tokens: 5 },
      }),
    );
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first', 'second'], dimensions: 2 });
    expect(result).toEqual({
      vectors: [
        [1, 0.125],
        [0.5, -0.25],
      ],
      usage: { promptTokens: 5, totalTokens: 5 },
      model: 'text-embedding-3-small',
    });
    expect(server.requests[0]?.path).toBe('/v1/embeddings');
    expect(bodyOf(server)).toEqual({ model: 'text-embedding-3-small', input: ['first', 'second'], encoding_format: 'base64', dimensions: 2 });
  });

  it('reads float answers too (a gateway may ignore encoding_format)', async () => {
    const { server, client } = await gateway((_req, res) =>
      sendJson(res, 200, { data: [{ index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 2 } }),
    );
    const result = await client.embeddings.create({ model: 'm', input: ['x'], encodingFormat: 'float', user: 'u1', extra: { input_type: 'query' } });
    expect(result).toEqual({ vectors: [[0.1, 0.2, 0.3]], usage: { promptTokens: 2, totalTokens: 2 } });
    expect(bodyOf(server)).toEqual({ input_type: 'query', model: 'm', input: ['x'], encoding_format: 'float', user: 'u1' });
  });

  it('estimates usage when the answer has none, and flags it', async () => {
    const { client } = await gateway((_req, res) => sendJson(res, 200, { data: [{ embedding: [1] }, { embedding: [2] }] }));
    const result = await client.embeddings.create({ model: 'm', input: ['abcde', 'abc'] });
    expect(result.usage).toEqual({ promptTokens: 3, totalTokens: 3, estimated: true });
    expect(approxTokenCount('abcde')).toBe(2);
  });

  it('an answer that does not match the inputs is retryable (missing, repeated, out-of-range index, no vector)', async () => {
    const answers = [
      { data: [{ index: 0, embedding: [1] }] },
      { data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [2] }] },
      { data: [{ index: 0, embedding: [1] }, { index: 2, embedding: [2] }] },
      { data: [{ index: 0, embedding: [1] }, { index: 1, embedding: [] }] },
      { data: [{ index: 0, embedding: [1] }, { index: 1, embedding: 'abc' }] },
      { data: [{ index: 0, embedding: [1] }, { index: 1, embedding: ['x'] }] },
      {},
    ];
    for (const answer of answers) {
      const { client } = await gateway((_req, res) => sendJson(res, 200, answer));
      const err = await upstreamRejection(client.embeddings.create({ model: 'm', input: ['a', 'b'] }));
      expect(err.kind).toBe('retryable');
      expect(err.requestId).toBe(REQUEST_ID);
    }
  });

  it('classifies gateway failures: 429 empty, 500 input is empty, 500 upstream, 400 too many inputs, 503 no channel', async () => {
    const cases: Array<[(res: ServerResponse) => void, string, string | undefined]> = [
      [(res) => res.writeHead(429, { 'content-length': 0 }).end(), 'rate_limited', undefined],
      [(res) => sendJson(res, 500, { error: { message: `input is empty (request id: ${REQUEST_ID})`, type: 'new_api_error', param: '', code: 'invalid_request' } }), 'rejected', 'invalid_request'],
      [(res) => sendJson(res, 500, { error: { message: 'The server had an error', type: 'server_error', param: '', code: null } }), 'retryable', undefined],
      [(res) => sendJson(res, 400, { error: { message: 'Too many inputs.', type: 'invalid_request_error', param: 'input', code: null } }), 'rejected', undefined],
      [(res) => sendJson(res, 503, { error: { message: 'No available channel', type: 'new_api_error', code: 'model_not_found' } }), 'rejected', 'model_not_found'],
    ];
    for (const [answer, kind, code] of cases) {
      const { client } = await gateway((_req, res) => answer(res));
      const err = await upstreamRejection(client.embeddings.create({ model: 'm', input: ['a'] }));
      expect([err.kind, err.upstreamCode]).toEqual([kind, code]);
    }
  });

  it('refuses an empty input list before calling', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, {}));
    await expect(client.embeddings.create({ model: 'm', input: [] })).rejects.toThrow(TypeError);
    await expect(client.embeddings.gemini({ model: 'm', inputs: [] })).rejects.toThrow(TypeError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('embeddings.gemini', () => {
  it('posts batchEmbedContents with models/ names and reads {embeddings:[{values}]} in order', async () => {
    const { server, client } = await gateway((_req, res) => sendJson(res, 200, { embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }] }));
    const result = await client.embeddings.gemini({ model: 'models/gemini-embedding-001', inputs: ['a', 'bcdef'], dimensions: 2, taskType: 'RETRIEVAL_DOCUMENT' });
    expect(result).toEqual({
      vectors: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      usage: { promptTokens: 3, totalTokens: 3, estimated: true },
    });
    expect(server.requests[0]?.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(bodyOf(server)).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 2 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'bcdef' }] }, taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 2 },
      ],
    });
  });

  it('uses usageMetadata when present; a count mismatch is retryable; Gemini errors keep their numeric code', async () => {
    const withUsage = await gateway((_req, res) => sendJson(res, 200, { embeddings: [{ values: [1] }], usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } }));
    expect((await withUsage.client.embeddings.gemini({ model: 'g', inputs: ['x'] })).usage).toEqual({ promptTokens: 9, totalTokens: 9 });

    const short = await gateway((_req, res) => sendJson(res, 200, { embeddings: [{ values: [1] }] }));
    expect((await upstreamRejection(short.client.embeddings.gemini({ model: 'g', inputs: ['x', 'y'] }))).kind).toBe('retryable');

    const tooMany = await gateway((_req, res) =>
      sendJson(res, 400, { error: { message: '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch', type: 'upstream_error', param: '', code: 400 } }),
    );
    const err = await upstreamRejection(tooMany.client.embeddings.gemini({ model: 'g', inputs: ['x'] }));
    expect([err.kind, err.upstreamCode, err.httpStatus]).toEqual(['rejected', '400', 400]);
  });
});

describe('base64 helpers', () => {
  it('decodeBase64Embedding reads little-endian float32 and refuses a ragged length', () => {
    expect(decodeBase64Embedding(f32([1.5, -2, 0.1]))).toEqual([1.5, -2, Math.fround(0.1)]);
    expect(() => decodeBase64Embedding(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(RangeError);
  });

  it('parseEmbeddingResponse places items by position when index is absent', () => {
    expect(parseEmbeddingResponse({ data: [{ embedding: [1] }, { embedding: f32([2]) }], usage: { prompt_tokens: 1, total_tokens: 1 } }, ['a', 'b']).vectors).toEqual([[1], [2]]);
  });
});
