import { Router, type RequestHandler } from 'express';
import { QUOTA_PER_USD } from '../balance';
import { invalidTokenMessage, managementError } from '../errors';
import { faultGate } from '../middleware/fault-gate';
import { isChinese } from '../middleware/locals';
import { classifyKey, relayAuth } from '../middleware/relay-auth';
import { ipWindowLimit, perMinuteLimit, tagRoute } from '../middleware/route-guards';
import type { SimulatorState } from '../state';

/**
 * Token balance (docs/gateway.md §2.3): `/api/usage/token/` in quota units with its own strict
 * per-IP limit, and the OpenAI-legacy billing routes in dollars (usage in cents).
 */
export function accountRoutes(state: SimulatorState): Router {
  const router = Router();
  const globalLimit = ipWindowLimit(state, 'global-api', (s) => s.options.globalApiLimit);
  const criticalLimit = ipWindowLimit(state, 'critical', (s) => s.options.usageTokenLimit);

  router.get('/api/usage/token', (req, res, next) => {
    if (req.path.endsWith('/')) return next();
    // Gin's RedirectTrailingSlash: happens before any middleware, so no limiter sees it.
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    res.redirect(301, `/api/usage/token/${query}`);
  });

  router.get(
    '/api/usage/token/',
    tagRoute(state, 'balance'),
    globalLimit,
    criticalLimit,
    readOnlyAuth(state),
    perMinuteLimit(state, 'balance'),
    faultGate(state, 'balance', 'management'),
    (req, res) => {
      const status = classifyKey(bearer(req.get('authorization')), state.options);
      const granted = state.balance.granted;
      const used = status === 'exhausted' ? granted : state.balance.used;
      res.json({
        code: true,
        message: 'ok',
        data: {
          object: 'token_usage',
          name: state.options.tokenName,
          total_granted: granted,
          total_used: used,
          total_available: Math.max(0, granted - used),
          unlimited_quota: false,
          model_limits: {},
          model_limits_enabled: false,
          expires_at: status === 'expired' ? state.clock.nowSec() - 86_400 : 0,
        },
      });
    },
  );

  const billing = [tagRoute(state, 'balance'), globalLimit, relayAuth(state), perMinuteLimit(state, 'balance'), faultGate(state, 'balance')];

  router.get(['/v1/dashboard/billing/subscription', '/dashboard/billing/subscription'], ...billing, (_req, res) => {
    const grantedUsd = state.balance.granted / QUOTA_PER_USD;
    res.json({
      object: 'billing_subscription',
      has_payment_method: true,
      soft_limit_usd: grantedUsd,
      hard_limit_usd: grantedUsd,
      system_hard_limit_usd: grantedUsd,
      access_until: 0,
    });
  });

  router.get(['/v1/dashboard/billing/usage', '/dashboard/billing/usage'], ...billing, (_req, res) => {
    res.json({ object: 'list', total_usage: (state.balance.used / QUOTA_PER_USD) * 100 });
  });

  return router;
}

const bearer = (header: string | undefined): string => (header ?? '').replace(/^bearer /i, '').trim();

/**
 * The gateway's TokenAuthReadOnly: `{success:false}` bodies with 401, and expired or exhausted
 * tokens may still read their usage.
 */
function readOnlyAuth(state: SimulatorState): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    if (header === '') {
      res.status(401).json(managementError(isChinese(req) ? '未提供令牌' : 'Token not provided'));
      return;
    }
    if (classifyKey(bearer(header), state.options) === 'unknown') {
      res.status(401).json(managementError(invalidTokenMessage(isChinese(req))));
      return;
    }
    next();
  };
}
