import { isRouteSelector, selectorMatches } from './route-keys';

export const FAULT_KINDS = [
  'rate_limit_empty',
  'rate_limit_json',
  'server_error',
  'bad_gateway_html',
  'slow',
  'hang',
  'reset',
  'rejected',
  'auth',
  'quota',
  /** 429 with the gateway's saturation text (E3 on task routes, E5 code 30 on MJ routes). */
  'saturated',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export type Fault = {
  id: string;
  /** A route key, a dotted prefix of keys, or `*`. */
  route: string;
  kind: FaultKind;
  /** Matching requests still to be hit; -1 means until cleared. */
  remaining: number;
  /** `slow` only: delay before answering normally (scaled in fast-time mode). */
  delayMs: number;
  /** `server_error` only: `panic` answers the gateway's E9 shape instead of an upstream 500. */
  variant: 'upstream' | 'panic';
  /** `server_error` only: the 5xx status to answer with. */
  status: number;
};

export type FaultInput = {
  route: string;
  kind: FaultKind;
  times?: number;
  delayMs?: number;
  variant?: 'upstream' | 'panic';
  status?: number;
};

export class FaultInputError extends Error {}

const isFaultKind = (value: unknown): value is FaultKind => FAULT_KINDS.some((kind) => kind === value);

/** Faults armed over HTTP (`/_sim/faults`); the first armed fault matching a route key wins. */
export class FaultBook {
  private faults: Fault[] = [];
  private seq = 0;

  add(input: FaultInput): Fault {
    if (!isRouteSelector(input.route)) throw new FaultInputError(`unknown route key: ${input.route}`);
    if (!isFaultKind(input.kind)) throw new FaultInputError(`unknown fault kind: ${String(input.kind)}`);
    const times = input.times ?? 1;
    if (!Number.isInteger(times) || (times < 1 && times !== -1)) throw new FaultInputError('times must be a positive integer or -1');
    const status = input.status ?? 500;
    if (!Number.isInteger(status) || status < 500 || status > 599) throw new FaultInputError('status must be a 5xx code');
    this.seq += 1;
    const fault: Fault = {
      id: `flt_${this.seq}`,
      route: input.route,
      kind: input.kind,
      remaining: times,
      delayMs: Math.max(0, input.delayMs ?? 5_000),
      variant: input.variant === 'panic' ? 'panic' : 'upstream',
      status,
    };
    this.faults.push(fault);
    return { ...fault };
  }

  /** Consumes one use of the first fault armed for `routeKey`. */
  take(routeKey: string): Fault | null {
    const fault = this.faults.find((f) => selectorMatches(f.route, routeKey));
    if (!fault) return null;
    if (fault.remaining > 0) {
      fault.remaining -= 1;
      if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return { ...fault };
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Clears every fault, or those armed with exactly this `route`. Returns how many went. */
  clear(route?: string): number {
    const before = this.faults.length;
    this.faults = route === undefined ? [] : this.faults.filter((f) => f.route !== route);
    return before - this.faults.length;
  }
}
