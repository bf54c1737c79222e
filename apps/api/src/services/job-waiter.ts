import { isFinalStatus } from '@genqueue/core';
import type { Job, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';

/** How often a waiter re-reads Postgres in case a live signal was missed (Redis down, restart). */
const RECHECK_MS = 2_000;

/** Holds a `?wait=N` request until the job is final or N seconds pass. */
export class JobWaiter {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly events: JobEventBus,
  ) {}

  async waitForFinal(job: Job, waitSec: number, isClosed: () => boolean): Promise<Job> {
    if (waitSec <= 0 || isFinalStatus(job.status)) return job;
    const deadline = Date.now() + waitSec * 1000;
    // A signal may arrive while Postgres is being read: it is remembered, not lost.
    let signaled = false;
    let wake: () => void = () => {
      signaled = true;
    };
    const stop = await this.events.listen(job.id, (signal) => {
      if (isFinalStatus(signal.status)) wake();
    });
    try {
      let current = job;
      for (;;) {
        // Read first: the job may have finished before the subscription was in place.
        current = (await this.jobs.findById(job.id)) ?? current;
        if (isFinalStatus(current.status) || Date.now() >= deadline || isClosed()) return current;
        await new Promise<void>((resolve) => {
          if (signaled) {
            signaled = false;
            resolve();
            return;
          }
          const timer = setTimeout(resolve, Math.min(RECHECK_MS, deadline - Date.now()));
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
      stop();
    }
  }
}
