import { alnumFrom, sha256Hex } from './hash';

/** Ids come from a per-state counter and the seed, so two runs with the same inputs match. */
export class IdSource {
  private seq = 0;
  private requestSeq = 0;

  constructor(private readonly seed: string) {}

  next(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Request ids count apart, so media ids depend only on the media made, not on other traffic. */
  nextRequest(): number {
    this.requestSeq += 1;
    return this.requestSeq;
  }

  /** `prefix` + `length` alphanumerics, unique within this simulator. */
  id(prefix: string, length = 24): string {
    return `${prefix}${alnumFrom(`${this.seed}|${prefix}|${this.next()}`, length)}`;
  }

  hex(length: number): string {
    return sha256Hex(`${this.seed}|hex|${this.next()}`).slice(0, length);
  }

  reset(): void {
    this.seq = 0;
    this.requestSeq = 0;
  }
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/**
 * The gateway's request id: UTC yyyyMMddHHmmss, then UnixNano % 1e9 without padding, then 8 hex
 * and 8 alphanumerics (docs/gateway.md §1.2).
 */
export function formatRequestId(nowMs: number, seq: number, seed: string): string {
  const d = new Date(nowMs);
  const stamp =
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const nanos = (Math.floor(nowMs) % 1000) * 1_000_000 + (seq % 1_000_000);
  const hex = sha256Hex(`${seed}|rid|${seq}`).slice(0, 8);
  return `${stamp}${nanos}${hex}${alnumFrom(`${seed}|rid|${seq}`, 8)}`;
}
