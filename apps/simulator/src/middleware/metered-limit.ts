import type { RequestHandler } from 'express';
import { jsonBody } from '../body';
import type { RouteKey } from '../route-keys';
import type { SimulatorState } from '../state';
import { faultGate, type FaultFlavor } from './fault-gate';
import { relayAuth } from './relay-auth';
import { tagRoute } from './route-guards';

/** One simulated minute, in real ms (1 s in fast-time mode with the default factor 60). */
export const rpmWindowMs = (state: SimulatorState): number => state.durationMs(60_000);

/**
 * The per-route `requestsPerMinute` option on the metered limiter (`state.rateWindows`): a sliding
 * one-minute window, 429 with an EMPTY body when exceeded (E8), O(1) per request, and statistics
 * (`GET /_sim/limits`) that count the limiter's 429s apart from faults. Runs before the body is
 * read, so a refused request costs almost nothing.
 */
export function meteredPerMinuteLimit(state: SimulatorState, key: RouteKey): RequestHandler {
  return (_req, res, next) => {
    const max = state.options.requestsPerMinute[key];
    const nowMs = state.clock.now();
    if (max === undefined) {
      state.rateWindows.note(key, nowMs);
      return next();
    }
    if (state.rateWindows.tryHit(key, max, rpmWindowMs(state), nowMs)) return next();
    res.status(429).end();
  };
}

/**
 * `relayRoute` with the metered limiter: token auth, rate limit, JSON body (multipart bodies are
 * left to the handler), then the armed faults of `key`.
 */
export function meteredRelayRoute(state: SimulatorState, key: RouteKey, flavor: FaultFlavor = 'openai'): RequestHandler[] {
  return [tagRoute(state, key), relayAuth(state), meteredPerMinuteLimit(state, key), jsonBody, faultGate(state, key, flavor)];
}
