import { Router } from 'express';
import type { RateWindowStats } from '../rate-window';
import { rpmWindowMs } from '../middleware/metered-limit';
import type { SimulatorState } from '../state';

/**
 * Control endpoints of the metered families (no auth, not counted):
 * `GET /_sim/limits`: the metered limiter per route key (allowed, limited = its empty-body 429s);
 * `GET /_sim/embeddings?recent=N`: embeddings totals and the last N requests (default 100).
 * Both are cleared by `POST /_sim/reset`.
 */
export function meteringRoutes(state: SimulatorState): Router {
  const router = Router();

  router.get('/_sim/limits', (_req, res) => {
    const now = state.clock.now();
    const keys: Record<string, ReturnType<typeof presentWindow>> = {};
    for (const [key, stats] of Object.entries(state.rateWindows.snapshot(now))) {
      keys[key] = presentWindow(stats, state.options.requestsPerMinute[key as keyof typeof state.options.requestsPerMinute] ?? null);
    }
    res.json({ algorithm: 'sliding_log', window_ms: rpmWindowMs(state), now_ms: now, keys });
  });

  router.get('/_sim/embeddings', (req, res) => {
    const recent = Number(typeof req.query['recent'] === 'string' ? req.query['recent'] : 100);
    res.json({
      totals: state.embeddingLog.totals(),
      recent: state.embeddingLog.recent(Number.isFinite(recent) && recent >= 0 ? recent : 100).map((r) => ({
        route: r.route,
        request_id: r.requestId,
        at_ms: r.atMs,
        model: r.model,
        inputs: r.inputs,
        tokens: r.tokens,
        dimensions: r.dimensions,
        encoding: r.encoding,
        status: r.status,
        ...(r.failure ? { failure: r.failure } : {}),
      })),
    });
  });

  return router;
}

const presentWindow = (s: RateWindowStats, configured: number | null) => ({
  requests_per_minute: configured,
  allowed: s.allowed,
  limited: s.limited,
  in_window: s.inWindow,
  first_allowed_at_ms: s.firstAllowedAtMs,
  last_allowed_at_ms: s.lastAllowedAtMs,
  first_limited_at_ms: s.firstLimitedAtMs,
  last_limited_at_ms: s.lastLimitedAtMs,
});
