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

/**
 * Postgres cannot store U+0000 in text or jsonb: a request carrying it would fail deep in a query
 * (a 500). It is refused at the edge instead, naming the field.
 */
export const rejectNulCharacters: RequestHandler = (req, _res, next) => {
  const details: ErrorDetail[] = [];
  for (const [key, value] of Object.entries(req.query)) nulPaths(value, key, details);
  nulPaths(req.body, '', details);
  if (details.length > 0) throw new AppError('invalid_request', 'The request contains a NUL character', details);
  next();
};
