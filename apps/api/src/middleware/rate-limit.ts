import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { AppError } from '@genqueue/core';

/**
 * Per-project requests per minute, a fixed one-minute window counted in Redis (shared by every
 * API instance). While Redis is down it lets requests through: the row is the truth, not the counter.
 */
export function projectRateLimit(redis: Redis, prefix: string, defaultPerMinute: number): RequestHandler {
  return async (req, res, next) => {
    const principal = req.principal;
    if (!principal || principal.kind !== 'project') return next();
    const limit = principal.limits.requests_per_minute ?? defaultPerMinute;
    const nowSec = Math.floor(Date.now() / 1000);
    const window = Math.floor(nowSec / 60);
    const key = `${prefix}:ratelimit:${principal.projectId}:${window}`;
    if (redis.status !== 'ready') return next();
    let count: number;
    try {
      const results = await redis.multi().incr(key).expire(key, 61).exec();
      count = Number(results?.[0]?.[1] ?? 0);
    } catch {
      return next();
    }
    res.setHeader('X-RateLimit-Limit', String(limit));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count > limit) {
      const retryAfterSec = 60 - (nowSec % 60);
      throw new AppError('rate_limited', `This project is limited to ${limit} requests per minute`, [], retryAfterSec);
    }
    next();
  };
}
