import type { JobError } from '@genqueue/core';

/**
 * Postgres cannot store U+0000 in jsonb (nor in text): a chat answer, a transcript or an error
 * message from the gateway carrying one would fail the job's final write on every run. Gateway
 * text is made storable by removing NUL characters; how many went is recorded.
 */
const NUL = '\u0000';

/** `value` with every U+0000 removed from its strings and keys, and how many were removed. */
export function withoutNul<T>(value: T): { value: T; removed: number } {
  let removed = 0;
  const clean = (s: string): string => {
    if (!s.includes(NUL)) return s;
    const out = s.replaceAll(NUL, '');
    removed += s.length - out.length;
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) out[clean(key)] = walk(item);
      return out;
    }
    return v;
  };
  const cleaned = walk(value) as T;
  return removed === 0 ? { value, removed } : { value: cleaned, removed };
}

/** A job output ready for jsonb: NUL characters removed, and `sanitized.nul_characters_removed` saying so. */
export function storableOutput(output: Record<string, unknown>): { output: Record<string, unknown>; removed: number } {
  const { value, removed } = withoutNul(output);
  if (removed === 0) return { output, removed };
  return { output: { ...value, sanitized: { nul_characters_removed: removed } }, removed };
}

/** An error (its message may quote the gateway) ready for jsonb. */
export function storableError(error: JobError): JobError {
  return withoutNul(error).value;
}
