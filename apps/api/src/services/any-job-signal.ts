import type { Redis } from 'ioredis';

/**
 * "Some job of some project changed": the admin event stream wakes on every signal of the job
 * events channel, which JobEventBus only hands out per job or per project. It rides the same
 * subscriber connection and channel (subscribing twice to a channel is a no-op in Redis).
 */
export class AnyJobSignal {
  private readonly listeners = new Set<() => void>();
  private subscribed = false;

  constructor(
    /** a connection in subscriber mode (the API's pub/sub connection) */
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {}

  listen(wake: () => void): () => void {
    this.ensureSubscribed();
    this.listeners.add(wake);
    return () => {
      this.listeners.delete(wake);
    };
  }

  private ensureSubscribed(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.subscriber.on('message', (channel: string) => {
      if (channel !== this.channel) return;
      for (const wake of this.listeners) wake();
    });
    // Not awaited: while Redis is down the stream re-reads Postgres on its own timer.
    this.subscriber.subscribe(this.channel).catch(() => undefined);
  }
}
