import { stepRunning } from '../run-lifecycle';
import type { EmbeddingServices } from './embedding-services';

/** A batch's progress row is written at most this often per process (every chunk would be thousands of writes). */
const WRITE_EVERY_MS = 1_000;
/** and a `job.progress` event at most this often (webhooks promise one per 5 s) */
const EVENT_EVERY_MS = 5_000;

type Last = { writtenAt: number; eventAt: number; progress: number };

/** Parent progress = finished chunks / all chunks, throttled. */
export class BatchProgress {
  private readonly last = new Map<string, Last>();

  constructor(private readonly svc: Pick<EmbeddingServices, 'jobs' | 'events'>) {}

  async report(jobId: string, finished: number, total: number, now = Date.now()): Promise<void> {
    if (total <= 0) return;
    // 100 belongs to the finished job: the finaliser still has to run.
    const progress = Math.min(99, Math.floor((finished / total) * 100));
    const last = this.last.get(jobId) ?? { writtenAt: 0, eventAt: 0, progress: -1 };
    if (finished >= total) this.last.delete(jobId);
    if (progress <= last.progress || now - last.writtenAt < WRITE_EVERY_MS) return;
    const withEvent = now - last.eventAt >= EVENT_EVERY_MS;
    this.last.set(jobId, { writtenAt: now, eventAt: withEvent ? now : last.eventAt, progress });
    await stepRunning(this.svc, jobId, { progress, lastProgressAt: new Date(now) }, withEvent ? { event: 'job.progress' } : {});
  }
}
