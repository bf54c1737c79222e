import { isFinalStatus } from '@genqueue/core';
import type { Job, JobEvent, JobQueries, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { streamSse } from './sse-writer';

/** Re-read Postgres this often in case a live signal was missed (Redis down, restart). */
const RECHECK_MS = 2_000;
const PAGE = 1000;

export type EventStreamDeps = {
  jobs: JobsRepository;
  jobQueries: JobQueries;
  events: JobEventBus;
  logger: Logger;
  render: (event: JobEvent) => Record<string, unknown>;
  /** `: heartbeat` interval (SSE_HEARTBEAT_MS) */
  heartbeatMs: number;
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
  await streamSse(res, {
    heartbeatMs: deps.heartbeatMs,
    recheckMs: RECHECK_MS,
    listen: (wake) => deps.events.listen(job.id, wake),
    onError: (err) => deps.logger.warn({ err, jobId: job.id }, 'events.stream_failed'),
    async pass(stream) {
      for (const event of await allEvents(deps.jobQueries, job.id, lastSeq)) {
        if (stream.ended) return;
        stream.send(event.seq, event.type, deps.render(event));
        lastSeq = event.seq;
      }
      const current = await deps.jobs.findById(job.id);
      if (!current || (isFinalStatus(current.status) && lastSeq >= current.eventSeq)) stream.end();
    },
  });
}
