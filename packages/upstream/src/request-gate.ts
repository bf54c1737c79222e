import type { GatewayLane } from './gateway-lanes';

/** How a gateway answer bears on its lane's health (see `outcomeOfStatus`). */
export type GateOutcome = 'ok' | 'rate_limited' | 'outage' | 'refused';

export type GateHold = { waitMs: number; reason: string };

/**
 * Paces and guards requests per gateway lane (the worker gives one backed by Redis, shared by all
 * workers). `acquire` before a request leaves; `report` once its answer's status is known.
 */
export interface RequestGate {
  acquire(lane: GatewayLane): Promise<{ ok: true } | ({ ok: false } & GateHold)>;
  report(lane: GatewayLane, outcome: GateOutcome, nowMs?: number, retryAfterMs?: number): Promise<{ held: false } | ({ held: true } & GateHold)>;
}

/**
 * Set on an UpstreamError when the lane holds requests back: the job should wait `waitMs` without
 * counting an attempt. `sent: false` when the request never left (the lane was already held).
 */
export type LaneHold = GateHold & { lane: GatewayLane; sent: boolean };

/** 2xx–4xx answers show a working gateway, except 429 (its limit) and 401/403 (key or quota refused). */
export function outcomeOfStatus(status: number): GateOutcome {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'refused';
  if (status >= 500) return 'outage';
  return 'ok';
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, nowMs = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
