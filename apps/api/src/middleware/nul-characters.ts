import type { RequestHandler } from 'express';
import { AppError, type ErrorDetail } from '@genqueue/core';

/** Paths of every string (or key) holding U+0000 inside `value`. */
function nulPaths(value: unknown, path: string, out: ErrorDetail[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ path: path || '(body)', message: 'must not contain the NUL character (\\u0000)' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => nulPaths(item, path ? `${path}.${i}` : String(i), out));
    return;
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) out.push({ path: at, message: 'must not contain the NUL character (\\u0000)' });
      nulPaths(inner, at, out);
    }
  }
}

/** No job input or metadata needs more nesting than this; deeper bodies only exhaust stacks. */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value, walked without recursion; stops once past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const inner of Array.isArray(item) ? item : Object.values(item as Record<string, unknown>)) stack.push([inner, level]);
  }
  return deepest;
}

/**
 * Postgres cannot store U+0000 in text or jsonb: a request carrying it would fail deep in a query
 * (a 500). It is refused at the edge instead, naming the field. Bodies nested deeper than
 * MAX_JSON_DEPTH are refused first (400), before anything walks them recursively.
 */
export const rejectNulCharacters: RequestHandler = (req, _res, next) => {
  if (jsonDepth(req.body) > MAX_JSON_DEPTH) {
    throw new AppError('invalid_request', `The request body is nested deeper than ${MAX_JSON_DEPTH} levels`, [{ path: '(body)', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  }
  const details: ErrorDetail[] = [];
  // an id in the path (`/api-keys/key_%00`) reaches a query as it is: Postgres refuses it there
  if (/%00/i.test(req.path)) details.push({ path: '(path)', message: 'must not contain the NUL character (%00)' });
  for (const [key, value] of Object.entries(req.query)) nulPaths(value, key, details);
  nulPaths(req.body, '', details);
  if (details.length > 0) throw new AppError('invalid_request', 'The request contains a NUL character', details);
  next();
};
