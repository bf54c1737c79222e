import type { Request, RequestHandler } from 'express';
import { AppError } from '@genqueue/core';
import type { SlidingWindowLimiter, Take, WindowTake } from '../services/sliding-window-limiter';
import type { Principal } from './auth';

export type RateLimits = {
  limiter: SlidingWindowLimiter;
  prefix: string;
  /** DEFAULT_REQUESTS_PER_MINUTE */
  defaultRequestsPerMinute: number;
  /** DEFAULT_JOBS_PER_MINUTE; unset: ten times the project's request limit */
  defaultJobsPerMinute?: number;
};

type ProjectPrincipal = Extract<Principal, { kind: 'project' }>;

/** Requests that submit exactly one job (`POST /v1/jobs`): the middleware takes their job too. */
const jobTakenWithRequest = new WeakSet<Request>();

/**
 * A project's windows: its requests and its jobs share the project's hash tag (one Redis Cluster
 * slot), so one script takes from both. WARNING: the counters' names; renaming them restarts the windows.
 */
const windowKey = (limits: RateLimits, projectId: string, what: 'requests' | 'jobs') => `{${limits.prefix}:ratelimit:${projectId}}:${what}`;

const requestLimitOf = (limits: RateLimits, principal: ProjectPrincipal) => principal.limits.requests_per_minute ?? limits.defaultRequestsPerMinute;
const jobLimitOf = (limits: RateLimits, principal: ProjectPrincipal) =>
  principal.limits.jobs_per_minute ?? limits.defaultJobsPerMinute ?? requestLimitOf(limits, principal) * 10;

function jobsRefused(limit: number, count: number, take: Take): AppError {
  if (take.retryAfterSec === null) {
    return new AppError('rate_limited', `${count} jobs are more than this project's limit of ${limit} jobs per minute; send fewer at once`, [], 60);
  }
  return new AppError('rate_limited', `This project is limited to ${limit} jobs per minute`, [], take.retryAfterSec);
}

/**
 * Per-project requests per minute, a sliding window in Redis (shared by every API instance). While
 * Redis is down it lets requests through: the row is the truth, not the counter. For a request that
 * `submitsOneJob`, its job is taken in the same round trip (after the request; a 429 for the job
 * leaves the request counted, as a separate take would).
 */
export function projectRateLimit(limits: RateLimits, options: { submitsOneJob?: (req: Request) => boolean } = {}): RequestHandler {
  return async (req, res, next) => {
    const principal = req.principal;
    if (!principal || principal.kind !== 'project') return next();
    const limit = requestLimitOf(limits, principal);
    const windows: WindowTake[] = [{ key: windowKey(limits, principal.projectId, 'requests'), limit, cost: 1 }];
    const withJob = options.submitsOneJob?.(req) ?? false;
    if (withJob) windows.push({ key: windowKey(limits, principal.projectId, 'jobs'), limit: jobLimitOf(limits, principal), cost: 1 });
    const [take, jobTake] = (await limits.limiter.takeInOrder(windows)) ?? [];
    if (!take) return next();
    const used = take.allowed ? take.used + 1 : take.used;
    res.setHeader('X-RateLimit-Limit', String(limit));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - used)));
    if (!take.allowed) {
      throw new AppError('rate_limited', `This project is limited to ${limit} requests per minute`, [], take.retryAfterSec ?? 60);
    }
    if (jobTake && !jobTake.allowed) throw jobsRefused(jobLimitOf(limits, principal), 1, jobTake);
    if (jobTake) jobTakenWithRequest.add(req);
    next();
  };
}

/**
 * Per-project jobs per minute: every job submitted counts, one for `POST /v1/jobs`, N for a bulk
 * request of N, so a bulk request is not a way around the limit. Throws 429 when they do not fit
 * (nothing is taken then). A job the request's own take already counted is not counted again.
 */
export async function takeJobSubmissions(limits: RateLimits, req: Request, count: number): Promise<void> {
  const principal = req.principal;
  if (!principal || principal.kind !== 'project') return;
  if (count === 1 && jobTakenWithRequest.delete(req)) return;
  const limit = jobLimitOf(limits, principal);
  const [take] = (await limits.limiter.takeInOrder([{ key: windowKey(limits, principal.projectId, 'jobs'), limit, cost: count }])) ?? [];
  if (!take || take.allowed) return;
  throw jobsRefused(limit, count, take);
}
