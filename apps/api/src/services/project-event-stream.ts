import type { JobEvent, JobQueries } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { JobWatchHub } from './job-watch-hub';
import { streamSse } from './sse-writer';

/** Re-read Postgres this often in case a live signal was missed (Redis down, restart). */
const RECHECK_MS = 2_000;
const PAGE = 500;
/**
 * Event ids are ULIDs made inside the writing transaction, so a transaction that commits late can
 * make an id smaller than one already visible. An event is sent once its id is this old: every
 * transaction that could still commit a smaller id has finished by then (they last milliseconds;
 * clocks of the writing processes must agree within this margin).
 */
export const SETTLE_MS = 750;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Milliseconds encoded in the first 10 characters of a ULID. */
export function ulidTimeMs(ulid: string): number {
  let ms = 0;
  for (const ch of ulid.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(ch);
  return ms;
}

/** The smallest event id of millisecond `ms`: everything made at or after `ms` sorts above it. */
export function eventIdFloor(ms: number): string {
  let out = '';
  let rest = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i += 1) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return `evt_${out}${'0'.repeat(16)}`;
}

export type ProjectStreamDeps = {
  jobQueries: Pick<JobQueries, 'projectEventsAfter'>;
  events: JobEventBus;
  /** the process's shared poller: the backstop behind Redis signals, one read per interval for all streams */
  hub: Pick<JobWatchHub, 'watchProject'>;
  logger: Logger;
  render: (event: JobEvent) => Record<string, unknown>;
  /** `: heartbeat` interval (SSE_HEARTBEAT_MS) */
  heartbeatMs: number;
};

/**
 * `GET /v1/events`: every event of the project's jobs, in event-id order, as `text/event-stream`.
 * Live signals come through Redis pub/sub (keyed by project), missed ones through the shared
 * JobWatchHub (one read per interval for every stream of the process); the rows are the source.
 */
export async function streamProjectEvents(deps: ProjectStreamDeps, projectId: string, afterId: string | null, res: Response): Promise<void> {
  await streamEventsById(
    {
      readAfter: (cursor, limit) => deps.jobQueries.projectEventsAfter(projectId, cursor, limit),
      listen: async (wake) => {
        const unsubscribe = await deps.events.listen(projectId, wake);
        const unwatch = deps.hub.watchProject(projectId, wake);
        return () => {
          unwatch();
          unsubscribe();
        };
      },
      recheckMs: null,
      onError: (err) => deps.logger.warn({ err, projectId }, 'events.project_stream_failed'),
      render: deps.render,
      heartbeatMs: deps.heartbeatMs,
    },
    afterId,
    res,
  );
}

export type EventsByIdSource = {
  /** events with an id above `cursor`, in id order, at most `limit` */
  readAfter(cursor: string, limit: number): Promise<JobEvent[]>;
  /** subscribes `wake` to live signals of the events read; answers the unsubscribe */
  listen(wake: () => void): Promise<() => void>;
  onError(err: unknown): void;
  render: (event: JobEvent) => Record<string, unknown>;
  heartbeatMs: number;
  /** a pass this often too (default 2 s); null when `listen` has a backstop of its own (the JobWatchHub) */
  recheckMs?: number | null;
};

/**
 * A stream of events in event-id order (a project's for `/v1/events`, every project's for the
 * admin stream). The SSE id is the event's own id (`evt_<ULID>`); a client that reconnects with
 * `Last-Event-ID` gets exactly the events after it, from any API instance. Without one, the stream
 * starts now.
 */
export async function streamEventsById(source: EventsByIdSource, afterId: string | null, res: Response): Promise<void> {
  let cursor = afterId ?? eventIdFloor(Date.now());
  let settleTimer: NodeJS.Timeout | null = null;
  await streamSse(res, {
    heartbeatMs: source.heartbeatMs,
    ...(source.recheckMs === null ? {} : { recheckMs: source.recheckMs ?? RECHECK_MS }),
    async listen(wake) {
      const unsubscribe = await source.listen(wake);
      // what stops when the stream ends: the signals, and a pass waiting for an event to settle
      return () => {
        if (settleTimer) clearTimeout(settleTimer);
        unsubscribe();
      };
    },
    onError: (err) => source.onError(err),
    async pass(stream) {
      for (;;) {
        const safeBefore = Date.now() - SETTLE_MS;
        const page = await source.readAfter(cursor, PAGE);
        let held: JobEvent | null = null;
        for (const event of page) {
          if (stream.ended) return;
          if (ulidTimeMs(event.id.slice(4)) > safeBefore) {
            held = event;
            break;
          }
          stream.send(event.id, event.type, source.render(event));
          cursor = event.id;
        }
        if (held) {
          // too fresh to send yet: look again once it has settled
          if (!settleTimer) {
            const wait = Math.max(10, ulidTimeMs(held.id.slice(4)) - safeBefore + 5);
            settleTimer = setTimeout(() => {
              settleTimer = null;
              void stream.pump();
            }, wait);
          }
          return;
        }
        if (page.length < PAGE) return;
      }
    },
  });
}
