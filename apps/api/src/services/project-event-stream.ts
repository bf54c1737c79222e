import type { JobEvent, PrismaClient } from '@genqueue/db';
import type { JobEventBus } from '@genqueue/queue';
import type { Response } from 'express';
import type { Logger } from 'pino';

const HEARTBEAT_MS = 15_000;
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
/** A transaction starts (created_at) at most this long before it makes its event id. */
const CREATED_AT_SLACK_MS = 60_000;

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
  prisma: PrismaClient;
  events: JobEventBus;
  logger: Logger;
  render: (event: JobEvent) => Record<string, unknown>;
};

/** The project's events after `afterId` (id order), at most `limit`. */
function eventsAfter(prisma: PrismaClient, projectId: string, afterId: string, limit: number): Promise<JobEvent[]> {
  const id = afterId.slice(4);
  return prisma.jobEvent.findMany({
    where: {
      projectId,
      id: { gt: afterId },
      // bounds the scan with the (project_id, created_at) index
      createdAt: { gte: new Date(ulidTimeMs(id) - CREATED_AT_SLACK_MS) },
    },
    orderBy: { id: 'asc' },
    take: limit,
  });
}

/**
 * `GET /v1/events`: every event of the project's jobs, in event-id order, as `text/event-stream`.
 * The SSE id is the event's own id (`evt_<ULID>`); a client that reconnects with `Last-Event-ID`
 * gets exactly the events after it, from any API instance. Without one, the stream starts now.
 * Live signals come through Redis pub/sub (keyed by project); the rows are the source.
 */
export async function streamProjectEvents(deps: ProjectStreamDeps, projectId: string, afterId: string | null, res: Response): Promise<void> {
  let cursor = afterId ?? eventIdFloor(Date.now());
  let ended = false;
  let pumping = false;
  let pumpAgain = false;
  let settleTimer: NodeJS.Timeout | null = null;
  let stopListening: () => void = () => undefined;
  const timers: NodeJS.Timeout[] = [];

  const end = () => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    if (settleTimer) clearTimeout(settleTimer);
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
        for (;;) {
          const safeBefore = Date.now() - SETTLE_MS;
          const page = await eventsAfter(deps.prisma, projectId, cursor, PAGE);
          let held: JobEvent | null = null;
          for (const event of page) {
            if (ended) return;
            if (ulidTimeMs(event.id.slice(4)) > safeBefore) {
              held = event;
              break;
            }
            res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(deps.render(event))}\n\n`);
            cursor = event.id;
          }
          if (held) {
            // too fresh to send yet: look again once it has settled
            if (!settleTimer) {
              const wait = Math.max(10, ulidTimeMs(held.id.slice(4)) - safeBefore + 5);
              settleTimer = setTimeout(() => {
                settleTimer = null;
                void pump();
              }, wait);
            }
            break;
          }
          if (page.length < PAGE) break;
        }
      } while (pumpAgain && !ended);
    } catch (err) {
      // The client reconnects with Last-Event-ID and resumes where this stream stopped.
      deps.logger.warn({ err, projectId }, 'events.project_stream_failed');
      end();
    } finally {
      pumping = false;
    }
  };

  // Listen before the first read, so no change falls between the two.
  const unsubscribe = await deps.events.listen(projectId, () => void pump());
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
