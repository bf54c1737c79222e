export type PeriodicTick = (signals: {
  /** the timer is closing: stop soon */
  stopped: AbortSignal;
  /** this tick should end any wait it holds (a nudge asked for the next tick now) */
  hold: AbortSignal;
}) => Promise<void>;

export type PeriodicTimerOptions = {
  intervalMs: number;
  /** the first tick comes after a random delay up to this, so processes started together spread out */
  firstTickWithinMs: number;
  tick: PeriodicTick;
  /** whether the timer may keep the process alive */
  keepAlive?: boolean;
};

/**
 * A tick every interval, measured from the start of the previous one, never two at once. The
 * sweeper, the retention pruner and the gateway balance reader each run one in every worker process
 * (a Postgres lease inside their tick keeps them to one run in all). `nudge` asks for a tick now.
 */
export class PeriodicTimer {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private readonly stopped = new AbortController();
  private hold: AbortController | null = null;
  private nudged = false;

  constructor(private readonly options: PeriodicTimerOptions) {}

  start(): void {
    this.schedule(Math.round(Math.random() * this.options.firstTickWithinMs));
  }

  /** A tick now: the running one (if any) ends its hold, and the next follows it at once. */
  nudge(): void {
    if (this.stopped.signal.aborted) return;
    if (this.current) {
      this.nudged = true;
      this.hold?.abort();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async close(): Promise<void> {
    this.stopped.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopped.signal.aborted) return;
    this.timer = setTimeout(() => {
      const startedMs = Date.now();
      const hold = new AbortController();
      this.hold = hold;
      this.current = this.options
        .tick({ stopped: this.stopped.signal, hold: AbortSignal.any([this.stopped.signal, hold.signal]) })
        // a tick reports its own failures; one that throws anyway must not stop the timer
        .catch(() => undefined)
        .finally(() => {
          this.current = null;
          this.hold = null;
          const nudged = this.nudged;
          this.nudged = false;
          this.schedule(nudged ? 0 : Math.max(0, this.options.intervalMs - (Date.now() - startedMs)));
        });
    }, delayMs);
    if (!this.options.keepAlive) this.timer.unref();
  }
}
