import { isFinalStatus } from '@genqueue/core';
import type { Job, JobEvent, JobQueries, JobsRepository } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { JobWatchHub } from './job-watch-hub';
import { streamSse } from './sse-writer';

/** events read per query: a stream never holds a whole long log in memory */
const PAGE = 100;

export type EventStreamDeps = {
  jobs: JobsRepository;
  jobQueries: JobQueries;
  events: JobEventBus;
  /** the process's shared backstop poller (a missed Redis signal) */
  hub: JobWatchHub;
  logger: Logger;
  render: (event: JobEvent) => Record<string, unknown>;
  /** `: heartbeat` interval (SSE_HEARTBEAT_MS) */
  heartbeatMs: number;
};

/** Every event of a job after `afterSeq`, in order (the admin job page; tenants page through them). */
export async function allEvents(jobQueries: JobQueries, jobId: string, afterSeq = 0): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for (;;) {
    const page = await jobQueries.events(jobId, out[out.length - 1]?.seq ?? afterSeq, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
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
    async listen(wake) {
      const stopSignals = await deps.events.listen(job.id, wake);
      const stopWatch = deps.hub.watch(job.id, job.eventSeq, wake);
      return () => {
        stopWatch();
        stopSignals();
      };
    },
    onError: (err) => deps.logger.warn({ err, jobId: job.id }, 'events.stream_failed'),
    async pass(stream) {
      for (;;) {
        const page = await deps.jobQueries.events(job.id, lastSeq, PAGE);
        for (const event of page) {
          if (stream.ended) return;
          stream.send(event.seq, event.type, deps.render(event));
          lastSeq = event.seq;
        }
        if (page.length < PAGE) break;
      }
      const current = await deps.jobs.findById(job.id);
      if (!current || (isFinalStatus(current.status) && lastSeq >= current.eventSeq)) stream.end();
    },
  });
}
