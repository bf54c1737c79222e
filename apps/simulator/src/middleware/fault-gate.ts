import type { Request, RequestHandler, Response } from 'express';
import {
  BAD_GATEWAY_HTML,
  blobStorageError,
  contentPolicyViolation,
  gatewayAbort,
  geminiUpstreamError,
  insufficientUserQuota,
  invalidTokenMessage,
  managementError,
  panicError,
  upstreamRateLimited,
  upstreamServerError,
} from '../errors';
import type { Fault } from '../faults';
import { pause } from '../sse';
import type { SimulatorState } from '../state';
import { answerTaskFault, type TaskFaultFlavor } from '../tasks/task-faults';
import { isChinese, requestIdOf } from './locals';

/** Which error dialect a route speaks when a fault answers for it. */
export type FaultFlavor = 'openai' | 'gemini' | 'management' | 'blob' | TaskFaultFlavor;

/** Applies the next armed fault for `routeKey`, or passes through. */
export function faultGate(state: SimulatorState, routeKey: string, flavor: FaultFlavor = 'openai'): RequestHandler {
  return async (req, res, next) => {
    const fault = state.faults.take(routeKey);
    if (!fault) return next();
    if (fault.kind === 'slow') {
      if (await pause(res, state.durationMs(fault.delayMs))) next();
      return;
    }
    answerFault(state, fault, flavor, req, res);
  };
}

function answerFault(state: SimulatorState, fault: Fault, flavor: FaultFlavor, req: Request, res: Response): void {
  if (answerTaskFault(fault, flavor, res)) return;
  const requestId = requestIdOf(res);
  switch (fault.kind) {
    case 'rate_limit_empty':
      res.status(429).end();
      return;
    case 'rate_limit_json':
      res.status(429).json(flavor === 'gemini' ? geminiUpstreamError(429, 'Resource has been exhausted (e.g. check quota).') : upstreamRateLimited());
      return;
    case 'server_error':
      if (fault.variant === 'panic') {
        res.status(500).json(panicError('runtime error: invalid memory address or nil pointer dereference'));
      } else {
        res.status(fault.status).json(flavor === 'gemini' ? geminiUpstreamError(fault.status, 'Internal error encountered.') : upstreamServerError());
      }
      return;
    case 'bad_gateway_html':
      // The page comes from the reverse proxy in front of the gateway: no gateway headers.
      res.removeHeader('X-Oneapi-Request-Id');
      res.removeHeader('X-New-Api-Version');
      res.status(502).type('text/html').send(BAD_GATEWAY_HTML);
      return;
    case 'hang':
      // Never answers; the exchange ends when the client or server closes the socket.
      return;
    case 'reset':
      req.socket.destroy();
      return;
    case 'rejected':
      res.status(400).json(flavor === 'gemini' ? geminiUpstreamError(400, 'Request contains an invalid argument.') : contentPolicyViolation());
      return;
    case 'auth':
      if (flavor === 'management') res.status(401).json(managementError(invalidTokenMessage(isChinese(req))));
      else if (flavor === 'blob') res.status(403).type('application/xml').send(blobStorageError('AuthenticationFailed', 'Server failed to authenticate the request.'));
      else res.status(401).json(gatewayAbort(invalidTokenMessage(isChinese(req)), requestId));
      return;
    case 'quota':
      res.status(403).json(insufficientUserQuota(0, requestId));
      return;
    case 'slow':
      return; // handled by the caller
  }
}
