import type { Response } from 'express';
import { contentPolicyViolation, gatewayAbort, mjGatewayError, mjSubmitResult, taskError, upstreamServerError, withRequestId } from '../errors';
import type { Fault } from '../faults';
import { requestIdOf } from '../middleware/locals';

/**
 * Fault dialects of the task routes. `task_submit` (`POST /v1/videos`) and `mj_submit`
 * (`/mj/submit/*`) relay an upstream answer; `task` and `mj` read the gateway's database.
 */
export type TaskFaultFlavor = 'task_submit' | 'task' | 'mj_submit' | 'mj';

/** What new-api answers on task routes for any 429 (`respondTaskError`). */
export const TASK_SATURATED_MESSAGE = '当前分组上游负载已饱和，请稍后再试';
/** new-api's text for an MJ error with code 30 (HTTP 429). */
export const MJ_SATURATED_MESSAGE = '当前分组负载已饱和，请稍后再试，或升级账户以提升服务质量。';

const isTaskFlavor = (flavor: string): flavor is TaskFaultFlavor =>
  flavor === 'task_submit' || flavor === 'task' || flavor === 'mj_submit' || flavor === 'mj';

const saturated = (flavor: string, res: Response): void => {
  if (flavor === 'task_submit' || flavor === 'task') res.status(429).json(taskError('fail_to_fetch_task', TASK_SATURATED_MESSAGE));
  else if (flavor === 'mj_submit' || flavor === 'mj') res.status(429).json(mjGatewayError('', MJ_SATURATED_MESSAGE, 30));
  else res.status(429).json(gatewayAbort(TASK_SATURATED_MESSAGE, requestIdOf(res), 'rate_limit_exceeded'));
};

/**
 * Answers faults whose shape differs on task routes, plus the `saturated` kind on any route.
 * Returns false when the generic answer applies.
 */
export function answerTaskFault(fault: Fault, flavor: string, res: Response): boolean {
  if (fault.kind === 'saturated') {
    saturated(flavor, res);
    return true;
  }
  if (!isTaskFlavor(flavor)) return false;
  if (flavor === 'task_submit') {
    switch (fault.kind) {
      case 'quota':
        res.status(403).json(taskError('insufficient_user_quota', withRequestId('用户额度不足, 剩余额度: ＄0.000000', requestIdOf(res))));
        return true;
      case 'rate_limit_json':
        saturated(flavor, res);
        return true;
      case 'server_error':
        if (fault.variant === 'panic') return false;
        // The upstream's non-200 body travels as a string inside E3 `fail_to_fetch_task`.
        res.status(fault.status).json(taskError('fail_to_fetch_task', JSON.stringify({ error: { ...upstreamServerError().error, param: null } })));
        return true;
      case 'rejected':
        res.status(400).json(taskError('fail_to_fetch_task', JSON.stringify({ error: { ...contentPolicyViolation().error, param: null } })));
        return true;
      default:
        return false;
    }
  }
  if (flavor === 'mj_submit') {
    switch (fault.kind) {
      case 'quota':
        res.status(400).json(mjGatewayError('quota_not_enough', '', 4));
        return true;
      case 'rate_limit_json':
        saturated(flavor, res);
        return true;
      case 'server_error':
        if (fault.variant === 'panic') return false;
        // The gateway could not talk to the proxy: E5 code 5, always HTTP 400.
        res.status(400).json(mjGatewayError('do_request_failed', `upstream answered status ${fault.status}`, 5));
        return true;
      case 'rejected':
        res.status(200).json(mjSubmitResult(24, '可能包含敏感词', null, { promptEn: 'forbidden', bannedWord: 'forbidden' }));
        return true;
      default:
        return false;
    }
  }
  return false;
}
