import type { RequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import type { SlidingWindowLimiter } from '../services/sliding-window-limiter';

/**
 * Requests per minute per client address (sliding window in Redis), for the routes that need no
 * key: a leaked signed artifact link cannot be used to hammer the disk. The address is the
 * socket's (`trust proxy` is off); behind a proxy every client shares the proxy's budget, so the
 * default is generous. Lets requests through while Redis is down.
 */
export function clientRateLimit(limiter: SlidingWindowLimiter, keyPrefix: string, perMinute: number, what: string): RequestHandler {
  return async (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const take = await limiter.take(`${keyPrefix}:${address}`, perMinute, 1);
    if (!take || take.allowed) return next();
    res.setHeader('X-RateLimit-Limit', String(perMinute));
    throw new AppError('rate_limited', `At most ${perMinute} ${what} requests per minute from one address`, [], take.retryAfterSec ?? 60);
  };
}
