import type { RequestHandler } from 'express';
import { formatRequestId } from '../ids';
import type { SimulatorState } from '../state';
import { routeKeyOf } from './locals';

/**
 * Gives every response the gateway's headers (§1.2) and records its final status under the
 * route key set later by `tagRoute`.
 */
export function requestContext(state: SimulatorState): RequestHandler {
  return (_req, res, next) => {
    const requestId = formatRequestId(state.clock.now(), state.ids.nextRequest(), state.options.seed);
    res.locals['requestId'] = requestId;
    res.setHeader('X-Oneapi-Request-Id', requestId);
    res.setHeader('X-New-Api-Version', state.options.version);
    res.setHeader('Access-Control-Allow-Origin', '*');

    let isRecorded = false;
    const record = (status: number | 'aborted'): void => {
      const key = routeKeyOf(res);
      if (isRecorded || key === undefined) return;
      isRecorded = true;
      state.counters.completed(key, status);
    };
    res.on('finish', () => record(res.statusCode));
    res.on('close', () => record(res.writableFinished ? res.statusCode : 'aborted'));
    next();
  };
}
