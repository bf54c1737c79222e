import { Balance } from './balance';
import { BlobStore } from './blob-store';
import { createClock, type SimClock } from './clock';
import { Counters } from './counters';
import { FaultBook } from './faults';
import { IdSource } from './ids';
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options';
import { SlidingWindowLimiter } from './rate-limit';
import { RateWindows } from './rate-window';
import { EmbeddingLog } from './embeddings/embedding-log';
import { TaskStore } from './tasks/task-store';

export type UploadedPart = { field: string; filename: string; contentType: string; bytes: number; sha256: string };

/** What one multipart (or JSON) upload carried, so tests can assert what arrived. */
export type UploadRecord = {
  routeKey: string;
  requestId: string;
  atMs: number;
  fields: Record<string, string>;
  files: UploadedPart[];
};

/** Everything mutable in one simulator: options, clock, counters, faults, blobs, balance. */
export class SimulatorState {
  readonly options: ResolvedOptions;
  readonly clock: SimClock;
  readonly ids: IdSource;
  readonly counters = new Counters();
  readonly faults = new FaultBook();
  readonly limiter = new SlidingWindowLimiter();
  readonly blobs: BlobStore;
  readonly balance: Balance;
  readonly uploads: UploadRecord[] = [];
  /** Video and Midjourney tasks with their per-task counters. */
  readonly tasks: TaskStore;
  /** Metered per-minute windows of the audio and embeddings routes (`GET /_sim/limits`). */
  readonly rateWindows = new RateWindows();
  /** Embeddings totals and recent requests (`GET /_sim/embeddings`), and `FAIL_ONCE` memory. */
  readonly embeddingLog = new EmbeddingLog();

  constructor(options: SimulatorOptions = {}) {
    this.options = resolveOptions(options);
    this.clock = createClock(options);
    this.ids = new IdSource(this.options.seed);
    this.blobs = new BlobStore(() => this.options.imagePx);
    this.balance = new Balance(this.options.quotaGranted);
    this.tasks = new TaskStore(this.clock.now(), this.options.seed);
  }

  /** A simulated duration in real ms (shortened in fast-time mode). */
  durationMs(simulatedMs: number): number {
    return this.clock.scaleMs(simulatedMs);
  }

  /** Clears counters, faults, blobs, uploads, limiter windows and the balance; keeps options and clock. */
  reset(): void {
    this.counters.reset();
    this.faults.clear();
    this.limiter.reset();
    this.blobs.reset();
    this.balance.reset(this.options.quotaGranted);
    this.uploads.length = 0;
    this.ids.reset();
    this.tasks.reset();
    this.rateWindows.reset();
    this.embeddingLog.reset();
  }
}

export function createSimulatorState(options: SimulatorOptions = {}): SimulatorState {
  return new SimulatorState(options);
}
