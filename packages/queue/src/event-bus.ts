import { GroupCommit, isFinalStatus } from '@genqueue/core';
import type { Redis } from 'ioredis';

export type JobSignal = { jobId: string; projectId: string; seq: number; status: string; type: string };

/** A committed change of a job and its event row (structural, so this package needs no db types). */
export type CommittedChange = {
  /** the row after the change; the optional fields are there when the writer passes the whole row (metrics read them) */
  job: {
    id: string;
    projectId: string;
    status: string;
    type?: string;
    attempts?: number;
    createdAt?: Date;
    startedAt?: Date | null;
    finishedAt?: Date | null;
    queueExpiresAt?: Date;
    ttlSec?: number;
  };
  event: { seq: number; type: string };
  /** webhook deliveries written with the change (the outbox), to be queued now that it is committed */
  deliveryIds?: readonly string[];
};

const signalOf = (change: CommittedChange): JobSignal => ({
  jobId: change.job.id,
  projectId: change.job.projectId,
  seq: change.event.seq,
  status: change.job.status,
  type: change.event.type,
});

/** Most signals in one message. */
const MAX_SIGNALS_PER_MESSAGE = 500;

/**
 * WARNING: the channel's message format is read by every API and worker process: one signal as a
 * JSON object, or several as a JSON array of them (readers take both).
 */
function parseSignals(message: string): JobSignal[] {
  try {
    const parsed = JSON.parse(message) as JobSignal | JobSignal[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

/**
 * Live notifications of job changes across processes (Redis pub/sub). The event rows stay the truth.
 * Signals announced while a publish is in flight go out together in the next message (GroupCommit),
 * so under load one PUBLISH, and one delivery to each subscribed process, carries many changes.
 */
export class JobEventBus {
  private readonly listeners = new Map<string, Set<(signal: JobSignal) => void>>();
  private subscribed = false;
  private deliveryEnqueuer: ((deliveryIds: readonly string[]) => Promise<void>) | null = null;
  private slotReleaser: ((projectId: string) => Promise<unknown>) | null = null;
  private readonly observers: Array<(change: CommittedChange) => void> = [];
  private readonly signals = new GroupCommit<JobSignal, void>({
    runBatch: async (signals) => {
      await this.publishMessage(JSON.stringify(signals.length === 1 ? signals[0] : signals));
      return signals.map(() => undefined);
    },
    maxBatch: MAX_SIGNALS_PER_MESSAGE,
  });

  constructor(
    private readonly publisher: Redis,
    /** a connection used only for SUBSCRIBE (Redis forbids other commands on it) */
    private readonly subscriber: Redis | null,
    private readonly channel: string,
  ) {}

  /** Who queues the webhook deliveries of announced changes (processes that write job changes set it). */
  setDeliveryEnqueuer(enqueue: (deliveryIds: readonly string[]) => Promise<void>): void {
    this.deliveryEnqueuer = enqueue;
  }

  /** Who is told that a job of a project reached a final status (a running slot may be free). */
  setSlotReleaser(release: (projectId: string) => Promise<unknown>): void {
    this.slotReleaser = release;
  }

  /** Adds a synchronous observer of every change this process announces (metrics); it must not throw. */
  observe(observer: (change: CommittedChange) => void): void {
    this.observers.push(observer);
  }

  /** Announces a committed change; null (another actor won the race) announces nothing. */
  async announce(change: CommittedChange | null): Promise<void> {
    if (!change) return;
    this.observeChange(change);
    if (change.deliveryIds && change.deliveryIds.length > 0 && this.deliveryEnqueuer) {
      // best effort: the sweeper queues pending deliveries that Redis never got
      await this.deliveryEnqueuer(change.deliveryIds).catch(() => undefined);
    }
    if (this.slotReleaser && isFinalStatus(change.job.status)) {
      // best effort: a waiting job whose wake is lost starts when its backstop delay runs out
      await this.slotReleaser(change.job.projectId).catch(() => undefined);
    }
    await this.publish(signalOf(change));
  }

  /** `announce` for many changes (a bulk submission): their signals go out in one round trip. */
  async announceMany(changes: readonly CommittedChange[]): Promise<void> {
    const needsMore = changes.some((c) => (c.deliveryIds?.length ?? 0) > 0 || isFinalStatus(c.job.status));
    if (needsMore || this.publisher.status !== 'ready') {
      // deliveries and freed slots go the one-by-one way; plain signals need only the publish
      await Promise.all(changes.map((change) => this.announce(change)));
      return;
    }
    for (const change of changes) this.observeChange(change);
    await Promise.all(changes.map((change) => this.publish(signalOf(change))));
  }

  private observeChange(change: CommittedChange): void {
    for (const observer of this.observers) {
      try {
        observer(change);
      } catch {
        // an observer's fault never stops an announcement
      }
    }
  }

  /** Best effort, grouped with the signals announced meanwhile (a lone one goes at once, as an object). */
  publish(signal: JobSignal): Promise<void> {
    return this.signals.run(signal);
  }

  private async publishMessage(message: string): Promise<void> {
    if (this.publisher.status !== 'ready') return;
    try {
      await this.publisher.publish(this.channel, message);
    } catch {
      // live notification only: waiters fall back to reading Postgres
    }
  }

  /** Calls `listener` for signals of `key` (a job id, or a project id for project-wide streams). */
  async listen(key: string, listener: (signal: JobSignal) => void): Promise<() => void> {
    await this.ensureSubscribed();
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  private async ensureSubscribed(): Promise<void> {
    if (this.subscribed || !this.subscriber) return;
    this.subscribed = true;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      for (const signal of parseSignals(message)) {
        for (const key of [signal.jobId, signal.projectId]) {
          for (const listener of this.listeners.get(key) ?? []) listener(signal);
        }
      }
    });
    // Not awaited: while Redis is down this would wait for it. ioredis subscribes once connected
    // (and again after every reconnect); meanwhile waiters re-read Postgres.
    this.subscriber.subscribe(this.channel).catch(() => undefined);
  }
}
