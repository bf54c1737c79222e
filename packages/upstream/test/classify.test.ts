import {
  classifyUpstreamFailure,
  cutUpstreamMessage,
  detectErrorEnvelope,
  UpstreamError,
  upstreamErrorFromResponse,
  type UpstreamErrorKind,
} from '../src';

const RID = '202606240035378086644568268d9d6AsuclAOv';
const withRid = (message: string): string => `${message} (request id: ${RID})`;
const json = (value: unknown): string => JSON.stringify(value);

interface Case {
  name: string;
  status: number;
  body: string;
  contentType?: string;
  kind: UpstreamErrorKind;
  code?: string;
  type?: string;
  message?: RegExp;
  upstreamMessage?: string;
}

// Bodies as docs/gateway.md §1.3 shows them (E1–E10), plus the status map and a few upstream shapes.
const cases: Case[] = [
  // E1: middleware aborts, no `param`, empty code
  {
    name: 'E1 401 invalid token, code ""',
    status: 401,
    body: json({ error: { message: withRid('Invalid token'), type: 'new_api_error', code: '' } }),
    kind: 'auth',
    type: 'new_api_error',
    upstreamMessage: withRid('Invalid token'),
  },
  {
    name: 'E1 401 Chinese message',
    status: 401,
    body: json({ error: { message: withRid('无效的令牌'), type: 'new_api_error', code: '' } }),
    kind: 'auth',
  },
  {
    name: 'E1 403 IP not allowed: access_denied',
    status: 403,
    body: json({ error: { message: withRid('您的 IP 不在令牌允许访问的列表中'), type: 'new_api_error', code: 'access_denied' } }),
    kind: 'auth',
    code: 'access_denied',
  },
  {
    name: 'E1 403 group not allowed',
    status: 403,
    body: json({ error: { message: withRid('无权访问 vip 分组'), type: 'new_api_error', code: '' } }),
    kind: 'auth',
  },
  {
    name: 'E1 400 model name not specified',
    status: 400,
    body: json({ error: { message: withRid('Model name not specified, model name cannot be empty'), type: 'new_api_error', code: '' } }),
    kind: 'rejected',
  },
  {
    name: 'E1 503 model_not_found (no channel)',
    status: 503,
    body: json({
      error: {
        message: withRid('No available channel for model gpt-image-9 under group default (distributor)'),
        type: 'new_api_error',
        code: 'model_not_found',
      },
    }),
    kind: 'rejected',
    code: 'model_not_found',
    message: /no channel or model on the gateway serves this model/,
  },
  {
    name: 'E1 429 Redis model rate limit (Chinese)',
    status: 429,
    body: json({ error: { message: withRid('您已达到请求数限制：1分钟内最多请求10次'), type: 'new_api_error', code: '' } }),
    kind: 'rate_limited',
  },
  {
    name: 'E1 429 token_concurrency_limit_reached',
    status: 429,
    body: json({ error: { message: 'too many', type: 'new_api_error', code: 'token_concurrency_limit_reached' } }),
    kind: 'rate_limited',
    code: 'token_concurrency_limit_reached',
  },
  {
    name: 'E1 503 token_concurrency_unavailable',
    status: 503,
    body: json({ error: { message: 'gate down', type: 'new_api_error', code: 'token_concurrency_unavailable' } }),
    kind: 'retryable',
  },
  // E2: relay pipeline, param "", code string/number/empty
  {
    name: 'E2 500 invalid_request: model is required',
    status: 500,
    body: json({ error: { message: withRid('model is required'), type: 'new_api_error', param: '', code: 'invalid_request' } }),
    kind: 'rejected',
    code: 'invalid_request',
  },
  {
    name: 'E2 500 invalid_request: dall-e-3 size check',
    status: 500,
    body: json({
      error: { message: withRid('size must be one of 1024x1024, 1024x1792 or 1792x1024 for dall-e-3'), type: 'new_api_error', param: '', code: 'invalid_request' },
    }),
    kind: 'rejected',
  },
  {
    name: 'E2 500 invalid_request: embeddings input is empty',
    status: 500,
    body: json({ error: { message: withRid('input is empty'), type: 'new_api_error', param: '', code: 'invalid_request' } }),
    kind: 'rejected',
  },
  {
    name: 'E2 400 numeric code from a Gemini upstream',
    status: 400,
    body: json({ error: { message: 'API key not valid. Please pass a valid API key.', type: 'upstream_error', param: '', code: 400 } }),
    kind: 'rejected',
    code: '400',
    type: 'upstream_error',
  },
  {
    name: 'E2 500 numeric code 500 from upstream',
    status: 500,
    body: json({ error: { message: 'An internal error has occurred.', type: 'upstream_error', param: '', code: 500 } }),
    kind: 'retryable',
    code: '500',
  },
  {
    name: 'E2 413 read_request_body_failed',
    status: 413,
    body: json({ error: { message: withRid('request body too large'), type: 'new_api_error', param: '', code: 'read_request_body_failed' } }),
    kind: 'rejected',
  },
  {
    name: 'E2 403 insufficient_user_quota (Chinese)',
    status: 403,
    body: json({ error: { message: withRid('用户额度不足, 剩余额度: ＄0.012300'), type: 'new_api_error', param: '', code: 'insufficient_user_quota' } }),
    kind: 'auth',
    code: 'insufficient_user_quota',
    message: /quota exhausted/,
  },
  {
    name: 'E2 403 pre_consume_token_quota_failed',
    status: 403,
    body: json({ error: { message: withRid('token quota is not enough'), type: 'new_api_error', param: '', code: 'pre_consume_token_quota_failed' } }),
    kind: 'auth',
  },
  {
    name: 'E2 503 system_cpu_overloaded',
    status: 503,
    body: json({ error: { message: withRid('system cpu overloaded'), type: 'new_api_error', param: '', code: 'system_cpu_overloaded' } }),
    kind: 'retryable',
    code: 'system_cpu_overloaded',
  },
  {
    name: 'E2 400 upstream content_policy_violation (OpenAI type, param null)',
    status: 400,
    body: json({
      error: {
        message: 'Your request was rejected as a result of our safety system.',
        type: 'invalid_request_error',
        param: null,
        code: 'content_policy_violation',
      },
    }),
    kind: 'rejected',
    code: 'content_policy_violation',
    type: 'invalid_request_error',
  },
  {
    name: 'E2 429 upstream rate_limit_exceeded',
    status: 429,
    body: json({ error: { message: 'Rate limit reached for images per minute', type: 'requests', param: null, code: 'rate_limit_exceeded' } }),
    kind: 'rate_limited',
  },
  {
    name: 'E2 500 do_request_failed',
    status: 500,
    body: json({ error: { message: withRid('do request failed: dial tcp: i/o timeout'), type: 'new_api_error', param: '', code: 'do_request_failed' } }),
    kind: 'retryable',
  },
  {
    name: 'E2 502 bad_response_status_code',
    status: 502,
    body: json({ error: { message: withRid('bad response status code 502'), type: 'upstream_error', param: '', code: 'bad_response_status_code' } }),
    kind: 'retryable',
  },
  {
    name: 'E2 500 channel:no_available_key',
    status: 500,
    body: json({ error: { message: 'no key', type: 'new_api_error', param: '', code: 'channel:no_available_key' } }),
    kind: 'retryable',
  },
  {
    name: 'E2 500 model_price_error (admin has not priced the model)',
    status: 500,
    body: json({ error: { message: withRid('模型 x 倍率或价格未配置'), type: 'new_api_error', param: '', code: 'model_price_error' } }),
    kind: 'rejected',
  },
  {
    name: 'E2 500 sensitive_words_detected',
    status: 500,
    body: json({ error: { message: withRid('sensitive words detected'), type: 'new_api_error', param: '', code: 'sensitive_words_detected' } }),
    kind: 'rejected',
  },
  {
    name: 'E2 400 with a 4xx status is not overridden by a transport code',
    status: 400,
    body: json({ error: { message: 'upstream said 400', type: 'upstream_error', param: '', code: 'bad_response_status_code' } }),
    kind: 'rejected',
  },
  {
    name: 'E2 with code null',
    status: 502,
    body: json({ error: { message: 'bad gateway', type: 'upstream_error', param: '', code: null } }),
    kind: 'retryable',
  },
  // E3: task routes
  {
    name: 'E3 400 task_not_exist',
    status: 400,
    body: json({ code: 'task_not_exist', message: 'task_not_exist', data: null }),
    kind: 'not_found',
    code: 'task_not_exist',
    message: /does not know this task/,
  },
  {
    name: 'E3 404 task_not_exist',
    status: 404,
    body: json({ code: 'task_not_exist', message: 'task_not_exist', data: null }),
    kind: 'not_found',
  },
  {
    name: 'E3 429 group saturated (Chinese message)',
    status: 429,
    body: json({ code: 'rate_limit_exceeded', message: '当前分组上游负载已饱和，请稍后再试', data: null }),
    kind: 'rate_limited',
  },
  {
    name: 'E3 400 invalid_size',
    status: 400,
    body: json({ code: 'invalid_size', message: 'sora-2 size is invalid', data: null }),
    kind: 'rejected',
    code: 'invalid_size',
  },
  {
    name: 'E3 400 invalid_request prompt is required',
    status: 400,
    body: json({ code: 'invalid_request', message: 'prompt is required', data: null }),
    kind: 'rejected',
  },
  {
    name: 'E3 403 insufficient_user_quota',
    status: 403,
    body: json({ code: 'insufficient_user_quota', message: '用户额度不足', data: null }),
    kind: 'auth',
  },
  {
    name: 'E3 400 fail_to_fetch_task with the upstream OpenAI body as a string',
    status: 400,
    body: json({
      code: 'fail_to_fetch_task',
      message: json({
        error: { message: 'Your request was blocked by our moderation system.', type: 'invalid_request_error', param: null, code: 'moderation_blocked' },
      }),
      data: null,
    }),
    kind: 'rejected',
    code: 'moderation_blocked',
    type: 'invalid_request_error',
    upstreamMessage: 'Your request was blocked by our moderation system.',
  },
  {
    name: 'E3 429 fail_to_fetch_task from an upstream 429',
    status: 429,
    body: json({ code: 'fail_to_fetch_task', message: json({ error: { message: 'slow down', type: 'rate_limit', code: 'rate_limit_exceeded' } }), data: null }),
    kind: 'rate_limited',
  },
  {
    name: 'E3 500 fail_to_fetch_task with a non-JSON inner body',
    status: 500,
    body: json({ code: 'fail_to_fetch_task', message: 'upstream connect error or disconnect/reset before headers', data: null }),
    kind: 'retryable',
    code: 'fail_to_fetch_task',
    upstreamMessage: 'upstream connect error or disconnect/reset before headers',
  },
  {
    name: 'E3 502 fail_to_fetch_task with an HTML inner body',
    status: 502,
    body: json({ code: 'fail_to_fetch_task', message: '<html><head><title>502 Bad Gateway</title></head></html>', data: null }),
    kind: 'retryable',
    upstreamMessage: 'upstream answered an HTML page',
  },
  {
    name: 'E3 with an empty message',
    status: 500,
    body: json({ code: 'get_channel_failed', message: '', data: null }),
    kind: 'retryable',
  },
  // E4: /content
  {
    name: 'E4 404 Task not found (no code)',
    status: 404,
    body: json({ error: { message: 'Task not found', type: 'invalid_request_error' } }),
    kind: 'not_found',
    type: 'invalid_request_error',
  },
  {
    name: 'E4 400 task not completed yet',
    status: 400,
    body: json({ error: { message: 'Task is not completed yet, current status: IN_PROGRESS', type: 'invalid_request_error' } }),
    kind: 'rejected',
  },
  {
    name: 'E4-like 502 expired upstream asset',
    status: 502,
    body: json({ error: { message: 'Upstream service returned status 403', type: 'server_error' } }),
    kind: 'retryable',
  },
  // E5: MJ errors raised by the gateway, trailing space
  {
    name: 'E5 400 code 4 with a trailing space',
    status: 400,
    body: json({ description: 'task_no_found ', type: 'upstream_error', code: 4 }),
    kind: 'rejected',
    code: '4',
    upstreamMessage: 'task_no_found',
  },
  {
    name: 'E5 400 code 4 quota_not_enough (the balance is spent: the key is refused)',
    status: 400,
    body: json({ description: 'quota_not_enough ', type: 'upstream_error', code: 4 }),
    kind: 'auth',
    code: '4',
    upstreamMessage: 'quota_not_enough',
  },
  {
    name: 'E5 400 code 5 (gateway↔proxy failure)',
    status: 400,
    body: json({ description: 'do_request_failed dial tcp 10.0.0.3:8080: connect: connection refused', type: 'upstream_error', code: 5 }),
    kind: 'retryable',
    code: '5',
  },
  {
    name: 'E5 429 code 30 group saturated',
    status: 429,
    body: json({ description: ' 当前分组负载已饱和，请稍后再试，或升级账户以提升服务质量。', type: 'upstream_error', code: 30 }),
    kind: 'rate_limited',
  },
  // E6: MJ business result on 200 (the MJ module reads these itself; a bare classification says rejected)
  {
    name: 'E6 200 code 24 banned prompt',
    status: 200,
    body: json({ code: 24, description: '可能包含敏感词', properties: { promptEn: 'nude body', bannedWord: 'nude' }, result: null }),
    kind: 'rejected',
    code: '24',
  },
  // E7: management routes
  {
    name: 'E7 200 success:false',
    status: 200,
    body: json({ success: false, message: '令牌查询失败' }),
    kind: 'rejected',
    upstreamMessage: '令牌查询失败',
  },
  {
    name: 'E7 401 Token not provided',
    status: 401,
    body: json({ success: false, message: 'Token not provided' }),
    kind: 'auth',
  },
  {
    name: 'E7 500 database error',
    status: 500,
    body: json({ success: false, message: 'database is locked' }),
    kind: 'retryable',
  },
  // E8: empty 429
  { name: 'E8 429 with an empty body', status: 429, body: '', kind: 'rate_limited', message: /empty body/ },
  { name: 'E8 429 with whitespace only', status: 429, body: ' \n', kind: 'rate_limited' },
  // E9: panic
  {
    name: 'E9 500 panic',
    status: 500,
    body: json({ error: { message: 'Panic detected, error: runtime error: invalid memory address or nil pointer dereference', type: 'new_api_panic' } }),
    kind: 'retryable',
    type: 'new_api_panic',
  },
  // E10: unknown path, stubbed route
  {
    name: 'E10 404 Invalid URL',
    status: 404,
    body: json({ error: { message: 'Invalid URL (GET /v1/videos)', type: 'invalid_request_error', param: '', code: '' } }),
    kind: 'not_found',
  },
  {
    name: 'E10 501 api_not_implemented',
    status: 501,
    body: json({ error: { message: 'API not implemented', type: 'new_api_error', param: '', code: 'api_not_implemented' } }),
    kind: 'rejected',
    code: 'api_not_implemented',
  },
  // 200 envelopes
  {
    name: '200 unknown /v1/models/{id}: model_not_found',
    status: 200,
    body: json({ error: { message: "The model 'x' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }),
    kind: 'rejected',
    code: 'model_not_found',
  },
  {
    name: '200 billing route error without a code',
    status: 200,
    body: json({ error: { message: 'token not found', type: 'upstream_error' } }),
    kind: 'rejected',
  },
  {
    name: '200 envelope with numeric code 429',
    status: 200,
    body: json({ error: { message: 'quota', type: 'upstream_error', code: 429 } }),
    kind: 'rate_limited',
  },
  {
    name: '200 envelope with numeric code 503',
    status: 200,
    body: json({ error: { message: 'overloaded', type: 'upstream_error', code: 503 } }),
    kind: 'retryable',
  },
  {
    name: '200 envelope with insufficient_user_quota',
    status: 200,
    body: json({ error: { message: 'no quota', type: 'new_api_error', code: 'insufficient_user_quota' } }),
    kind: 'auth',
  },
  // HTML, plain text and other odd bodies
  {
    name: 'HTML 502 page from nginx',
    status: 502,
    contentType: 'text/html',
    body: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>',
    kind: 'retryable',
    message: /^upstream answered an HTML error page \(HTTP 502\)$/,
  },
  {
    name: 'HTML 504 Cloudflare page without content type',
    status: 504,
    body: '<!DOCTYPE html>\n<html lang="en-US"><head><title>gateway.example.com | 504: Gateway time-out</title></head><body></body></html>',
    kind: 'retryable',
    message: /^upstream answered an HTML error page \(HTTP 504\)$/,
  },
  {
    name: 'HTML 413 page',
    status: 413,
    contentType: 'text/html; charset=utf-8',
    body: '<html><head><title>413 Request Entity Too Large</title></head></html>',
    kind: 'rejected',
  },
  { name: 'plain text 502', status: 502, contentType: 'text/plain', body: 'Bad Gateway', kind: 'retryable', message: /Bad Gateway/ },
  { name: 'plain text 400', status: 400, body: 'bad request', kind: 'rejected' },
  { name: 'empty 500', status: 500, body: '', kind: 'retryable' },
  { name: 'empty 401', status: 401, body: '', kind: 'auth' },
  { name: 'empty 404', status: 404, body: '', kind: 'not_found' },
  { name: 'JSON array body 500', status: 500, body: '[1,2]', kind: 'retryable' },
  { name: 'truncated JSON 500', status: 500, body: '{"error":{"message":"cut', kind: 'retryable' },
  { name: '{"error":"string"} 500', status: 500, body: json({ error: 'upstream exploded' }), kind: 'retryable', upstreamMessage: 'upstream exploded' },
  {
    name: 'Google-shaped error with status field',
    status: 429,
    body: json({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }),
    kind: 'rate_limited',
    code: '429',
    type: 'RESOURCE_EXHAUSTED',
  },
  { name: '408 timeout', status: 408, body: '', kind: 'retryable' },
  { name: '410 gone', status: 410, body: '', kind: 'not_found' },
  { name: '422 unprocessable', status: 422, body: json({ error: { message: 'bad field', type: 'invalid_request_error' } }), kind: 'rejected' },
];

describe('classifyUpstreamFailure', () => {
  it.each(cases)('$name → $kind', (c) => {
    const failure = classifyUpstreamFailure({ status: c.status, bodyText: c.body, ...(c.contentType ? { contentType: c.contentType } : {}) });
    expect(failure.kind).toBe(c.kind);
    expect(failure.httpStatus).toBe(c.status);
    if (c.code !== undefined) expect(failure.upstreamCode).toBe(c.code);
    if (c.type !== undefined) expect(failure.upstreamType).toBe(c.type);
    if (c.message !== undefined) expect(failure.message).toMatch(c.message);
    if (c.upstreamMessage !== undefined) expect(failure.upstreamMessage).toBe(c.upstreamMessage);
    expect(failure.message.length).toBeGreaterThan(0);
  });

  it('drops empty codes and stringifies numeric ones', () => {
    expect(classifyUpstreamFailure({ status: 401, bodyText: json({ error: { message: 'x', type: 't', code: '' } }) }).upstreamCode).toBeUndefined();
    expect(classifyUpstreamFailure({ status: 400, bodyText: json({ error: { message: 'x', code: 400 } }) }).upstreamCode).toBe('400');
  });

  it('takes the request id from the header, else from the message suffix', () => {
    const body = json({ error: { message: withRid('Invalid token'), type: 'new_api_error', code: '' } });
    expect(classifyUpstreamFailure({ status: 401, bodyText: body }).requestId).toBe(RID);
    expect(classifyUpstreamFailure({ status: 401, bodyText: body, requestId: 'hdr-1' }).requestId).toBe('hdr-1');
    expect(classifyUpstreamFailure({ status: 429, bodyText: '', requestId: 'hdr-2' }).requestId).toBe('hdr-2');
  });

  it('cuts long messages to about 500 characters and keeps the request id suffix', () => {
    const long = withRid('x'.repeat(5000));
    const failure = classifyUpstreamFailure({ status: 500, bodyText: json({ error: { message: long, type: 'new_api_error', code: 'do_request_failed' } }) });
    expect(failure.upstreamMessage?.length).toBeLessThanOrEqual(500);
    expect(failure.upstreamMessage?.endsWith(`(request id: ${RID})`)).toBe(true);
    expect(cutUpstreamMessage('short')).toBe('short');
  });

  it('never reads message text: same code, different languages, same kind', () => {
    const en = classifyUpstreamFailure({ status: 403, bodyText: json({ error: { message: 'quota exhausted', code: 'insufficient_user_quota' } }) });
    const zh = classifyUpstreamFailure({ status: 403, bodyText: json({ error: { message: '用户额度不足', code: 'insufficient_user_quota' } }) });
    expect(en.kind).toBe(zh.kind);
    const quotaLooking = classifyUpstreamFailure({ status: 500, bodyText: json({ error: { message: 'insufficient_user_quota rate limit 429' } }) });
    expect(quotaLooking.kind).toBe('retryable');
  });
});

describe('detectErrorEnvelope', () => {
  it.each([
    ['{"error":{…}} on 200', { error: { message: 'm', type: 'upstream_error' } }],
    ['E7 success:false', { success: false, message: 'm' }],
    ['token usage code:false', { code: false, message: 'm' }],
    ['E3 with data null', { code: 'task_not_exist', message: 'task_not_exist', data: null }],
  ])('detects %s', (_name, body) => {
    expect(detectErrorEnvelope(body)).toBeDefined();
  });

  it.each([
    ['an image response', { created: 1, data: [{ url: 'https://x/y.png' }] }],
    ['a video object with error:null', { id: 'task_1', object: 'video', status: 'in_progress', error: null }],
    ['a failed video object', { id: 'task_1', object: 'video', status: 'failed', error: { code: 'moderation_blocked', message: 'no' } }],
    ['a chat chunk', { id: 'c', object: 'chat.completion.chunk', choices: [] }],
    ['token usage success', { code: true, message: 'ok', data: { object: 'token_usage' } }],
    ['task wrapper success', { code: 'success', message: '', data: { task_id: 't' } }],
    ['a string', 'hello'],
    ['null', null],
  ])('ignores %s', (_name, body) => {
    expect(detectErrorEnvelope(body)).toBeUndefined();
  });
});

describe('UpstreamError', () => {
  it('carries the classification and says whether a retry can help', () => {
    const err = upstreamErrorFromResponse({ status: 429, bodyText: '', requestId: RID });
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toBeInstanceOf(Error);
    expect(err.kind).toBe('rate_limited');
    expect(err.isRetryable).toBe(true);
    expect(err.httpStatus).toBe(429);
    expect(err.requestId).toBe(RID);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ name: 'UpstreamError', kind: 'rate_limited', httpStatus: 429 });
    expect(new UpstreamError({ kind: 'rejected', message: 'm' }).isRetryable).toBe(false);
  });
});
