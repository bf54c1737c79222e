import { createHash, createHmac } from 'node:crypto';

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export const sha256Bytes = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();

export const hmacBase64Url = (secret: string, data: string): string =>
  createHmac('sha256', secret).update(data).digest('base64url');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Deterministic alphanumeric string of `length` characters derived from `seed`. */
export function alnumFrom(seed: string, length: number): string {
  let out = '';
  for (let block = 0; out.length < length; block += 1) {
    for (const byte of sha256Bytes(`${seed}#${block}`)) {
      out += ALNUM[byte % ALNUM.length];
      if (out.length === length) break;
    }
  }
  return out;
}
