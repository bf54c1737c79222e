import { createHash, createHmac } from 'node:crypto';

/**
 * A presigned S3 GET (AWS Signature Version 4, query-string form). Written against the published
 * SigV4 algorithm because the SDK's presigner (`@aws-sdk/s3-request-presigner`) is not a dependency
 * here; the storage contract test checks these URLs against a real S3-compatible server.
 */
export type PresignInput = {
  bucket: string;
  key: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined };
  expiresInSec: number;
  responseContentType?: string | undefined;
  responseContentDisposition?: string | undefined;
  now?: Date;
};

/** SigV4's URI encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const hmac = (key: Buffer | string, value: string) => createHmac('sha256', key).update(value, 'utf8').digest();

/** SigV4 allows at most seven days. */
export const MAX_PRESIGN_SEC = 7 * 24 * 3600;

export function presignGetUrl(input: PresignInput): string {
  const base = new URL(input.endpoint ?? `https://s3.${input.region}.amazonaws.com`);
  const encodedKey = input.key.split('/').map(encodeRfc3986).join('/');
  const prefix = base.pathname.replace(/\/+$/, '');
  let host = base.host;
  let path: string;
  if (input.forcePathStyle) {
    path = `${prefix}/${encodeRfc3986(input.bucket)}/${encodedKey}`;
  } else {
    host = `${input.bucket}.${base.host}`;
    path = `${prefix}/${encodedKey}`;
  }

  const now = input.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const params: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${input.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(Math.min(Math.max(1, Math.floor(input.expiresInSec)), MAX_PRESIGN_SEC)),
    'X-Amz-SignedHeaders': 'host',
  };
  if (input.credentials.sessionToken) params['X-Amz-Security-Token'] = input.credentials.sessionToken;
  if (input.responseContentType) params['response-content-type'] = input.responseContentType;
  if (input.responseContentDisposition) params['response-content-disposition'] = input.responseContentDisposition;

  const query = Object.keys(params)
    .sort()
    .map((k) => `${encodeRfc3986(k)}=${encodeRfc3986(params[k]!)}`)
    .join('&');
  const canonicalRequest = ['GET', path, query, `host:${host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let signingKey = hmac(`AWS4${input.credentials.secretAccessKey}`, day);
  for (const part of [input.region, 's3', 'aws4_request']) signingKey = hmac(signingKey, part);
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return `${base.protocol}//${host}${path}?${query}&X-Amz-Signature=${signature}`;
}
