export type RouteCounter = { received: number; statuses: Record<string, number> };
export type CountersSnapshot = { total: number; routes: Record<string, RouteCounter>; statuses: Record<string, number> };

/** Requests per route key (counted on arrival) and final statuses (counted when the exchange ends). */
export class Counters {
  private total = 0;
  private routes = new Map<string, RouteCounter>();
  private statuses = new Map<string, number>();

  received(routeKey: string): void {
    this.total += 1;
    this.route(routeKey).received += 1;
  }

  /** `status` is the HTTP status, or `aborted` when the socket closed before an answer. */
  completed(routeKey: string, status: number | 'aborted'): void {
    const label = String(status);
    const counter = this.route(routeKey);
    counter.statuses[label] = (counter.statuses[label] ?? 0) + 1;
    this.statuses.set(label, (this.statuses.get(label) ?? 0) + 1);
  }

  snapshot(): CountersSnapshot {
    const routes: Record<string, RouteCounter> = {};
    for (const [key, counter] of this.routes) routes[key] = { received: counter.received, statuses: { ...counter.statuses } };
    return { total: this.total, routes, statuses: Object.fromEntries(this.statuses) };
  }

  reset(): void {
    this.total = 0;
    this.routes.clear();
    this.statuses.clear();
  }

  private route(routeKey: string): RouteCounter {
    let counter = this.routes.get(routeKey);
    if (!counter) {
      counter = { received: 0, statuses: {} };
      this.routes.set(routeKey, counter);
    }
    return counter;
  }
}
