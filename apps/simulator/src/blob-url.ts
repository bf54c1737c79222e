import type { StoredBlob } from './blob-store';
import { hmacBase64Url } from './hash';
import type { SimulatorState } from './state';

export type BlobAccess = 'ok' | 'expired' | 'bad_signature' | 'unsigned';

const signature = (state: SimulatorState, file: string, expirySec: number): string =>
  hmacBase64Url(state.options.signingSecret, `${file}|${expirySec}`).slice(0, 32);

export const blobFileName = (blob: StoredBlob): string => `${blob.id}.${blob.kind}`;

/** A dall-e style link: valid for `blobUrlTtlSec` (scaled in fast-time), `se` in Unix seconds. */
export function signedBlobUrl(state: SimulatorState, baseUrl: string, blob: StoredBlob): string {
  const ttlMs = state.durationMs(state.options.blobUrlTtlSec * 1000);
  const expirySec = Math.ceil((state.clock.now() + ttlMs) / 1000);
  const file = blobFileName(blob);
  return `${baseUrl}/_sim/blobs/${file}?se=${expirySec}&sig=${signature(state, file, expirySec)}`;
}

/** A provider CDN link as chat models print it: no query, no expiry. */
export const publicBlobUrl = (baseUrl: string, blob: StoredBlob): string => `${baseUrl}/_sim/blobs/${blobFileName(blob)}`;

export function checkBlobAccess(state: SimulatorState, blob: StoredBlob, se: unknown, sig: unknown): BlobAccess {
  if (!blob.isSigned) return 'ok';
  if (typeof se !== 'string' || typeof sig !== 'string') return 'unsigned';
  const expirySec = Number(se);
  if (!Number.isInteger(expirySec) || sig !== signature(state, blobFileName(blob), expirySec)) return 'bad_signature';
  return state.clock.now() >= expirySec * 1000 ? 'expired' : 'ok';
}
