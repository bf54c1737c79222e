import { isFinalStatus } from '@genqueue/core';
import type { Job, JobEvent, JobQueries, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { Response } from 'express';
import type { Logger } from 'pino';

const HEARTBEAT_MS = 15_000;
/** Re-read Postgres this often in case a live signal was missed (Redis down, restart). */
const RECHECK_MS = 2_000;
const PAGE = 1000;

export type EventStreamDeps = {
  jobs: JobsRepository;
  jobQueries: JobQueries;
  events: JobEventBus;
  logger: Logger;
  render: (event: JobEvent) => Record<string, unknown>;
};

/** Every event of a job after `afterSeq`, in order. */
export async function allEvents(jobQueries: JobQueries, jobId: string, afterSeq = 0): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for (;;) {
    const page = await jobQueries.events(jobId, out[out.length - 1]?.seq ?? afterSeq, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/**
 * `text/event-stream` of a job's events after `afterSeq`: the stored log first, then live ones as
 * they are written; ends once the job is final and its last event was sent. The event rows are
 * the source; Redis signals only say "read again now".
 */
export async function streamJobEvents(deps: EventStreamDeps, job: Job, afterSeq: number, res: Response): Promise<void> {
  let lastSeq = afterSeq;
  let ended = false;
  let pumping = false;
  let pumpAgain = false;
  let stopListening: () => void = () => undefined;
  const timers: NodeJS.Timeout[] = [];

  const end = () => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    stopListening();
    res.end();
  };
  res.on('close', end);

  const pump = async (): Promise<void> => {
    if (ended) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        for (const event of await allEvents(deps.jobQueries, job.id, lastSeq)) {
          if (ended) return;
          res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(deps.render(event))}\n\n`);
          lastSeq = event.seq;
        }
        const current = await deps.jobs.findById(job.id);
        if (!current || (isFinalStatus(current.status) && lastSeq >= current.eventSeq)) {
          end();
          return;
        }
      } while (pumpAgain && !ended);
    } catch (err) {
      // The client reconnects with Last-Event-ID and resumes where this stream stopped.
      deps.logger.warn({ err, jobId: job.id }, 'events.stream_failed');
      end();
    } finally {
      pumping = false;
    }
  };

  // Listen before the first read, so no change falls between the two.
  const unsubscribe = await deps.events.listen(job.id, () => void pump());
  if (ended) {
    unsubscribe();
    return;
  }
  stopListening = unsubscribe;
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  timers.push(
    setInterval(() => void pump(), RECHECK_MS),
    setInterval(() => {
      if (!ended) res.write(': heartbeat\n\n');
    }, HEARTBEAT_MS),
  );
  await pump();
}
