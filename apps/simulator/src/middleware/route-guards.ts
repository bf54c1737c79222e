import type { RequestHandler } from 'express';
import { jsonBody } from '../body';
import type { RouteKey } from '../route-keys';
import type { SimulatorState } from '../state';
import { faultGate, type FaultFlavor } from './fault-gate';
import { setRouteKey } from './locals';
import { relayAuth } from './relay-auth';

/** Names the route for counters and faults; counts the request as received. */
export function tagRoute(state: SimulatorState, key: RouteKey): RequestHandler {
  return (_req, res, next) => {
    setRouteKey(res, key);
    state.counters.received(key);
    next();
  };
}

/** The per-route `requestsPerMinute` option: a one-minute sliding window, 429 with an empty body. */
export function perMinuteLimit(state: SimulatorState, key: RouteKey): RequestHandler {
  return (_req, res, next) => {
    const max = state.options.requestsPerMinute[key];
    if (max === undefined || state.limiter.tryHit(`rpm:${key}`, max, state.durationMs(60_000), state.clock.now())) return next();
    res.status(429).end();
  };
}

/** A per-IP window like the gateway's GlobalAPIRateLimit / CriticalRateLimit; `null` limit = off. */
export function ipWindowLimit(state: SimulatorState, name: string, limitOf: (s: SimulatorState) => { max: number; windowSec: number } | null): RequestHandler {
  return (req, res, next) => {
    const limit = limitOf(state);
    if (!limit) return next();
    const key = `${name}:${req.ip ?? 'unknown'}`;
    if (state.limiter.tryHit(key, limit.max, state.durationMs(limit.windowSec * 1000), state.clock.now())) return next();
    res.status(429).end();
  };
}

/** The chain of a relay route, in the gateway's order: token auth, rate limit, body, then the upstream (faults). */
export function relayRoute(state: SimulatorState, key: RouteKey, flavor: FaultFlavor = 'openai'): RequestHandler[] {
  return [tagRoute(state, key), relayAuth(state), perMinuteLimit(state, key), jsonBody, faultGate(state, key, flavor)];
}
