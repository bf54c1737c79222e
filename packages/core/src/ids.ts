import { z } from 'zod';

/**
 * Prefixed, sortable ids: `<prefix>_<ULID>`.
 * WARNING: id formats are a persisted contract (rows, BullMQ job ids, webhook ids). Do not change them.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'job' | 'evt' | 'art' | 'file' | 'prj' | 'key' | 'whd' | 'wha' | 'msg' | 'wep' | 'jat' | 'ses' | 'bulk' | 'jco' | 'gbs';

let lastTimeMs = -1;
let lastRandom: number[] = [];

function encodeTime(timeMs: number): string {
  let out = '';
  let rest = timeMs;
  for (let i = 0; i < 10; i += 1) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time: one `getRandomValues` call per id cost some
 * 4 µs (its argument checks), paid on every new millisecond, i.e. by almost every id under load.
 */
const RANDOM_POOL = new Uint8Array(4096);
let poolOffset = RANDOM_POOL.length;

function freshRandom(): number[] {
  if (poolOffset + 16 > RANDOM_POOL.length) {
    crypto.getRandomValues(RANDOM_POOL);
    poolOffset = 0;
  }
  const digits = new Array<number>(16);
  for (let i = 0; i < 16; i += 1) digits[i] = RANDOM_POOL[poolOffset + i]! % 32;
  poolOffset += 16;
  return digits;
}

/** Monotonic within a process: ids made in the same millisecond still sort in creation order. */
function nextRandom(timeMs: number): number[] {
  if (timeMs !== lastTimeMs) {
    lastTimeMs = timeMs;
    lastRandom = freshRandom();
    return lastRandom;
  }
  const next = [...lastRandom];
  for (let i = next.length - 1; i >= 0; i -= 1) {
    const digit = (next[i] ?? 0) + 1;
    if (digit < 32) {
      next[i] = digit;
      break;
    }
    next[i] = 0;
  }
  lastRandom = next;
  return next;
}

export function ulid(explicitTimeMs?: number): string {
  // a clock stepping back must not break the order of ids already handed out
  const timeMs = explicitTimeMs ?? Math.max(Date.now(), lastTimeMs);
  return encodeTime(timeMs) + nextRandom(timeMs).map((d) => CROCKFORD[d]).join('');
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

const ID_PATTERNS = new Map<IdPrefix, RegExp>();

/**
 * `<prefix>_` and 26 Crockford digits (no I, L, O, U): exactly what `newId(prefix)` makes.
 * WARNING: every id check (path ids, body and query fields, cursors, queue payloads) goes through this.
 */
export function idPattern(prefix: IdPrefix): RegExp {
  let pattern = ID_PATTERNS.get(prefix);
  if (!pattern) {
    pattern = new RegExp(`^${prefix}_[${CROCKFORD}]{26}$`);
    ID_PATTERNS.set(prefix, pattern);
  }
  return pattern;
}

/** Whether `value` is an id of this kind. A path id that is not one is answered as unknown (404). */
export function isId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && idPattern(prefix).test(value);
}

/** `isId` with the id first, as older callers write it. */
export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return isId(prefix, id);
}

/** A string that must be an id of this kind, refused as `must be <what> (<prefix>_…)`: `idSchema('job', 'a job id')`. */
export function idSchema(prefix: IdPrefix, what: string) {
  return z.string().regex(idPattern(prefix), `must be ${what} (${prefix}_…)`);
}
