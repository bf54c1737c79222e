import { AppError } from '@genqueue/core';

/**
 * Counts long-lived connections (SSE streams, `?wait` long polls) per owner in this process, so one
 * project cannot hold every socket and timer of an API instance. Per process on purpose: the cost
 * being bounded (sockets, memory, watchers) is per process too.
 */
export class ConnectionSlots {
  private readonly open = new Map<string, number>();

  constructor(
    /** what the slots are for, in the 429's message */
    private readonly what: string,
    private readonly limit: number,
    /** what the 429 tells the client to wait before trying again */
    private readonly retryAfterSec = 5,
  ) {}

  /** Takes a slot of `owner`, or throws 429 `rate_limited`; answers the release (safe to call twice). */
  acquire(owner: string): () => void {
    const count = this.open.get(owner) ?? 0;
    if (count >= this.limit) {
      throw new AppError('rate_limited', `At most ${this.limit} ${this.what} may be open at once`, [], this.retryAfterSec);
    }
    this.open.set(owner, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(owner) ?? 1) - 1;
      if (left <= 0) this.open.delete(owner);
      else this.open.set(owner, left);
    };
  }

  /** Open slots of every owner together (metrics). */
  total(): number {
    let sum = 0;
    for (const n of this.open.values()) sum += n;
    return sum;
  }

  /** Open slots of `owner`. */
  count(owner: string): number {
    return this.open.get(owner) ?? 0;
  }
}
