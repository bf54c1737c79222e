import type { RequestHandler } from 'express';
import { carriesMetricsToken, type ApiKeysRepository } from '@genqueue/db';
import { resolvePrincipal } from './auth';

/**
 * `GET /metrics` tells who runs what (routes, request counts, open connections): it answers the
 * admin key, or `Authorization: Bearer <METRICS_TOKEN>` when that setting is set (a scraper's
 * token that opens nothing else). Nobody else, by default. The worker's /metrics applies the same
 * rule (checkMetricsAccess of @genqueue/db).
 */
export function authenticateMetrics(apiKeys: ApiKeysRepository, metricsToken: string | undefined): RequestHandler {
  return async (req, _res, next) => {
    if (carriesMetricsToken(req.headers.authorization, metricsToken)) return next();
    await resolvePrincipal(apiKeys, req, 'admin');
    next();
  };
}
