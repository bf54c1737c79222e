import type { ErrorRequestHandler, RequestHandler } from 'express';
import { gatewayAbort, gatewayError, invalidUrlError, panicError } from '../errors';
import type { SimulatorState } from '../state';
import { requestIdOf, setRouteKey } from './locals';

/** Unknown paths answer E10 like the gateway's RelayNotFound. */
export function notFound(state: SimulatorState): RequestHandler {
  return (req, res) => {
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', '*');
      res.status(204).end();
      return;
    }
    setRouteKey(res, 'not_found');
    state.counters.received('not_found');
    res.status(404).json(invalidUrlError(req.method, req.path));
  };
}

type BodyParserError = Error & { type?: string };

/** Body-parser failures map to the gateway's codes; anything else is a recovered panic (E9). */
export function errorHandler(): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const error: BodyParserError = err instanceof Error ? err : new Error(String(err));
    const requestId = requestIdOf(res);
    if (error.type === 'entity.too.large') {
      res.status(413).json(gatewayError(`read request body failed: ${error.message}`, 'read_request_body_failed', requestId));
    } else if (error.type === 'entity.parse.failed' || error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
      res.status(400).json(gatewayAbort(`Invalid request, ${error.message}`, requestId));
    } else {
      res.status(500).json(panicError(error.message));
    }
  };
}
