import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { ApiKeysRepository } from '@genqueue/db';
import { resolvePrincipal } from './auth';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` tells who runs what (routes, request counts, open connections): it answers the
 * admin key, or `Authorization: Bearer <METRICS_TOKEN>` when that setting is set (a scraper's
 * token that opens nothing else). Nobody else, by default.
 */
export function authenticateMetrics(apiKeys: ApiKeysRepository, metricsToken: string | undefined): RequestHandler {
  const expected = metricsToken ? digest(metricsToken) : null;
  return async (req, _res, next) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    // compared as digests: equal lengths, and no timing hint about the token
    if (expected && bearer && timingSafeEqual(digest(bearer), expected)) return next();
    await resolvePrincipal(apiKeys, req, 'admin');
    next();
  };
}
