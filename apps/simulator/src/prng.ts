import { sha256Bytes } from './hash';

/**
 * A small deterministic generator (sfc32) seeded from sha256(`seed`): each call yields the next
 * uint32. Same seed, same sequence, on every platform.
 */
export function seededUint32(seed: string): () => number {
  const bytes = sha256Bytes(seed);
  let a = bytes.readUInt32LE(0);
  let b = bytes.readUInt32LE(4);
  let c = bytes.readUInt32LE(8);
  let d = bytes.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

/** Integer in [0, n) from a uint32 generator. */
export const pick = (next: () => number, n: number): number => next() % n;
