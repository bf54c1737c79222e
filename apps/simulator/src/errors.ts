/**
 * Builders for the gateway's error shapes (docs/gateway.md §1.3). Gateway-made messages carry the
 * ` (request id: …)` suffix; errors relayed from an upstream keep their own text and type.
 */

export type OpenAIErrorBody = {
  error: { message: string; type: string; param?: string; code?: string | number | null };
};

export const withRequestId = (message: string, requestId: string): string => `${message} (request id: ${requestId})`;

/** E1: a middleware abort (auth, distributor, model rate limit). No `param` key. */
export const gatewayAbort = (message: string, requestId: string, code = ''): OpenAIErrorBody => ({
  error: { message: withRequestId(message, requestId), type: 'new_api_error', code },
});

/** E2 raised by the gateway's relay pipeline (validation, quota). */
export const gatewayError = (message: string, code: string, requestId: string): OpenAIErrorBody => ({
  error: { message: withRequestId(message, requestId), type: 'new_api_error', param: '', code },
});

/** E2 relayed from an upstream: the gateway keeps message and code, turns a null param into "". */
export const upstreamError = (error: {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | number | null;
}): OpenAIErrorBody => ({
  error: { message: error.message, type: error.type || 'upstream_error', param: error.param ?? '', code: error.code ?? null },
});

/** E2 for a Gemini upstream error `{code, message, status}`: numeric `code` is kept. */
export const geminiUpstreamError = (code: number, message: string): OpenAIErrorBody =>
  upstreamError({ message, type: 'upstream_error', code });

/** E3: task routes (`/v1/videos*`, `/v1/video/*`). */
export const taskError = (code: string, message: string): { code: string; message: string; data: null } => ({
  code,
  message,
  data: null,
});

/** E4: `/v1/videos/{id}/content`, no `code`. */
export const videoContentError = (message: string): OpenAIErrorBody => ({
  error: { message, type: 'invalid_request_error' },
});

/** E5: Midjourney errors raised by the gateway; note the trailing space of `description`. */
export const mjGatewayError = (description: string, result: string, code: number) => ({
  description: `${description} ${result}`,
  type: 'upstream_error',
  code,
});

/** E6: a Midjourney proxy business result, passed through (usually HTTP 200). */
export const mjSubmitResult = (code: number, description: string, result: string | null = null, properties: Record<string, unknown> = {}) => ({
  code,
  description,
  properties,
  result,
});

/** E7: `/api/*` management routes. */
export const managementError = (message: string): { success: false; message: string } => ({ success: false, message });

/** E9: a recovered panic. */
export const panicError = (detail: string): OpenAIErrorBody => ({
  error: {
    message: `Panic detected, error: ${detail}. Please submit a issue here: https://github.com/Calcium-Ion/new-api`,
    type: 'new_api_panic',
  },
});

/** E10: unknown `/v1…` path. */
export const invalidUrlError = (method: string, path: string): OpenAIErrorBody => ({
  error: { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error', param: '', code: '' },
});

/** E10: a stubbed route. */
export const notImplementedError = (): OpenAIErrorBody => ({
  error: { message: 'API not implemented', type: 'new_api_error', param: '', code: 'api_not_implemented' },
});

// Frequent concrete errors.

export const invalidTokenMessage = (isChinese: boolean): string => (isChinese ? '无效的令牌' : 'Invalid token');

export const modelNotFound = (model: string, requestId: string, group = 'default'): OpenAIErrorBody =>
  gatewayAbort(`No available channel for model ${model} under group ${group} (distributor)`, requestId, 'model_not_found');

export const contentPolicyViolation = (): OpenAIErrorBody =>
  upstreamError({
    message:
      'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
    type: 'invalid_request_error',
    param: null,
    code: 'content_policy_violation',
  });

/** `availableQuota` in quota units; the gateway prints it in dollars with a full-width sign. */
export const insufficientUserQuota = (availableQuota: number, requestId: string): OpenAIErrorBody =>
  gatewayError(`用户额度不足, 剩余额度: ＄${(availableQuota / 500_000).toFixed(6)}`, 'insufficient_user_quota', requestId);

export const upstreamRateLimited = (): OpenAIErrorBody =>
  upstreamError({ message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' });

export const upstreamServerError = (): OpenAIErrorBody =>
  upstreamError({
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  });

/** What nginx in front of the gateway answers when the gateway is down. */
export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** Azure Blob Storage style XML error, as image CDNs answer for expired or bad signatures. */
export const blobStorageError = (code: string, message: string, detail?: string): string =>
  '<?xml version="1.0" encoding="utf-8"?>' +
  `<Error><Code>${code}</Code><Message>${message}</Message>` +
  (detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : '') +
  '</Error>';
