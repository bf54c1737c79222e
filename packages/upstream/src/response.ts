import { detectErrorEnvelope, looksLikeHtml, UpstreamError } from './errors';
import { errorFromHttpResponse, type HttpResponse } from './http';

/**
 * The JSON of a successful answer. Throws the classified UpstreamError for a non-2xx status or
 * for a 2xx body that is an error envelope (`{"error":…}` on 200, E7 `{"success":false}`, E3).
 * A 2xx body that is empty, HTML or not JSON is `retryable`: a proxy or a half-written answer.
 */
export function parseJsonResponse(res: HttpResponse, what: string): unknown {
  if (res.status < 200 || res.status >= 300) throw errorFromHttpResponse(res);
  const text = res.bodyText();
  const base = { httpStatus: res.status, ...(res.requestId !== undefined ? { requestId: res.requestId } : {}) };
  if (text.trim() === '') {
    throw new UpstreamError({ ...base, kind: 'retryable', message: `${what}: empty body (HTTP ${res.status})` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    const message = looksLikeHtml(text, res.contentType)
      ? `${what}: upstream answered an HTML page instead of JSON (HTTP ${res.status})`
      : `${what}: body is not valid JSON (HTTP ${res.status})`;
    throw new UpstreamError({ ...base, kind: 'retryable', message }, { cause: err });
  }
  if (detectErrorEnvelope(json)) throw errorFromHttpResponse(res);
  return json;
}
