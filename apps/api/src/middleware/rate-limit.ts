import type { Request, RequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import type { SlidingWindowLimiter } from '../services/sliding-window-limiter';

export type RateLimits = {
  limiter: SlidingWindowLimiter;
  prefix: string;
  /** DEFAULT_REQUESTS_PER_MINUTE */
  defaultRequestsPerMinute: number;
  /** DEFAULT_JOBS_PER_MINUTE; unset: ten times the project's request limit */
  defaultJobsPerMinute?: number;
};

/**
 * Per-project requests per minute, a sliding window in Redis (shared by every API instance). While
 * Redis is down it lets requests through: the row is the truth, not the counter.
 */
export function projectRateLimit(limits: RateLimits): RequestHandler {
  return async (req, res, next) => {
    const principal = req.principal;
    if (!principal || principal.kind !== 'project') return next();
    const limit = principal.limits.requests_per_minute ?? limits.defaultRequestsPerMinute;
    const take = await limits.limiter.take(`${limits.prefix}:ratelimit:${principal.projectId}:requests`, limit, 1);
    if (!take) return next();
    const used = take.allowed ? take.used + 1 : take.used;
    res.setHeader('X-RateLimit-Limit', String(limit));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - used)));
    if (!take.allowed) {
      throw new AppError('rate_limited', `This project is limited to ${limit} requests per minute`, [], take.retryAfterSec ?? 60);
    }
    next();
  };
}

/**
 * Per-project jobs per minute: every job submitted counts, one for `POST /v1/jobs`, N for a bulk
 * request of N, so a bulk request is not a way around the limit. Throws 429 when they do not fit
 * (nothing is taken then).
 */
export async function takeJobSubmissions(limits: RateLimits, req: Request, count: number): Promise<void> {
  const principal = req.principal;
  if (!principal || principal.kind !== 'project') return;
  const requestLimit = principal.limits.requests_per_minute ?? limits.defaultRequestsPerMinute;
  const limit = principal.limits.jobs_per_minute ?? limits.defaultJobsPerMinute ?? requestLimit * 10;
  const take = await limits.limiter.take(`${limits.prefix}:ratelimit:${principal.projectId}:jobs`, limit, count);
  if (!take || take.allowed) return;
  if (take.retryAfterSec === null) {
    throw new AppError('rate_limited', `${count} jobs are more than this project's limit of ${limit} jobs per minute; send fewer at once`, [], 60);
  }
  throw new AppError('rate_limited', `This project is limited to ${limit} jobs per minute`, [], take.retryAfterSec);
}
