import { Router } from 'express';
import { z } from 'zod';
import { isRedisReady } from '@genqueue/queue';
import type { ApiDeps } from '../deps';
import { authenticateMetrics } from '../middleware/metrics-auth';

async function postgresReady(deps: ApiDeps): Promise<boolean> {
  try {
    await deps.prisma.$queryRaw`SELECT 1`;
    return true;
  } catch {
    return false;
  }
}

export const HealthSchema = z.object({ status: z.literal('ok') });
/** `GET /readyz`: 200 when both are reachable, else 503 with the same shape. */
export const ReadinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.object({ postgres: z.boolean(), redis: z.boolean() }) });

export function healthRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [postgres, redis] = await Promise.all([postgresReady(deps), isRedisReady(deps.redis)]);
    const ready = postgres && redis;
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } });
  });

  router.get('/metrics', authenticateMetrics(deps.apiKeys, deps.settings.METRICS_TOKEN), async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.contentType);
    res.send(await deps.metrics.render());
  });

  return router;
}
