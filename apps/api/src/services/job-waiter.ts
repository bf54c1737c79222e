import { isFinalStatus } from '@genqueue/core';
import type { Job, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { JobWatchHub } from './job-watch-hub';

/**
 * Holds a `?wait=N` request until the job is final or N seconds pass. A Redis signal wakes it at
 * once; the shared JobWatchHub notices a missed one. The waiter itself reads Postgres only at the
 * start, when woken, and at the deadline.
 */
export class JobWaiter {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly events: JobEventBus,
    private readonly hub: JobWatchHub,
  ) {}

  /** `closed` aborts when the client goes away: the wait ends then, and its slot is free. */
  async waitForFinal(job: Job, waitSec: number, closed: AbortSignal): Promise<Job> {
    if (waitSec <= 0 || isFinalStatus(job.status)) return job;
    const deadline = Date.now() + waitSec * 1000;
    // A wake may arrive while Postgres is being read: it is remembered, not lost.
    let signaled = false;
    let wake: () => void = () => {
      signaled = true;
    };
    const stopSignals = await this.events.listen(job.id, (signal) => {
      if (isFinalStatus(signal.status)) wake();
    });
    const stopWatch = this.hub.watch(job.id, job.eventSeq, (state) => {
      if (!state || isFinalStatus(state.status)) wake();
    });
    const onAbort = (): void => wake();
    closed.addEventListener('abort', onAbort);
    try {
      let current = job;
      for (;;) {
        // Read first: the job may have finished before the subscription was in place.
        current = (await this.jobs.findById(job.id)) ?? current;
        if (isFinalStatus(current.status) || Date.now() >= deadline || closed.aborted) return current;
        await new Promise<void>((resolve) => {
          if (signaled) {
            signaled = false;
            resolve();
            return;
          }
          const timer = setTimeout(resolve, deadline - Date.now());
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {
          signaled = true;
        };
      }
    } finally {
      closed.removeEventListener('abort', onAbort);
      stopWatch();
      stopSignals();
    }
  }
}
