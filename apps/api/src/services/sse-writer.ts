import type { Response } from 'express';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // no proxy buffering (nginx)
  'X-Accel-Buffering': 'no',
};

/** One open `text/event-stream` response, as a stream's pass sees it. */
export type SseStream = {
  /** true once the client went away or the stream was ended: nothing more is written */
  readonly ended: boolean;
  /** Writes one event frame: `id:`, `event:` and `data:` (the JSON of `data`). */
  send(id: string | number, event: string, data: unknown): void;
  /** Runs a pass now, or once more right after the one that is running. */
  pump(): Promise<void>;
  /** Runs `cleanup` when the stream ends; at once when it already has. */
  onClose(cleanup: () => void): void;
  /** Stops the timers, runs the cleanups and ends the response (once). */
  end(): void;
};

export type SseStreamOptions = {
  /** `: heartbeat` comment interval (the `SSE_HEARTBEAT_MS` setting; api.md: every 15 s) */
  heartbeatMs: number;
  /**
   * a pass runs this often too, in case a live signal was missed (Redis down, restart); unset when
   * `listen` has a backstop of its own (the shared JobWatchHub)
   */
  recheckMs?: number;
  /** Subscribes `wake` to live changes; answers the unsubscribe. Runs before the first read. */
  listen(wake: () => void): Promise<() => void>;
  /** Reads and sends what is new; calls `stream.end()` once nothing more will come. */
  pass(stream: SseStream): Promise<void>;
  /** A pass threw; the stream ends after this (the client resumes with Last-Event-ID). */
  onError(err: unknown): void;
};

/**
 * Serves a `text/event-stream` on `res`: listens for live changes, sends the headers, then runs
 * `pass` on every change and every `recheckMs` (never two at once), with a heartbeat comment in
 * between, until `pass` ends the stream or the client closes it.
 */
export async function streamSse(res: Response, options: SseStreamOptions): Promise<void> {
  let ended = false;
  let pumping = false;
  let pumpAgain = false;
  const timers: NodeJS.Timeout[] = [];
  const cleanups: Array<() => void> = [];

  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    for (const cleanup of cleanups) cleanup();
    res.end();
  };

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
        await options.pass(stream);
      } while (pumpAgain && !ended);
    } catch (err) {
      options.onError(err);
      end();
    } finally {
      pumping = false;
    }
  };

  const stream: SseStream = {
    get ended() {
      return ended;
    },
    send(id, event, data) {
      res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    pump,
    onClose(cleanup) {
      if (ended) cleanup();
      else cleanups.push(cleanup);
    },
    end,
  };
  res.on('close', end);

  // Listen before the first read, so no change falls between the two.
  stream.onClose(await options.listen(() => void pump()));
  if (ended) return;
  res.status(200);
  for (const [name, value] of Object.entries(SSE_HEADERS)) res.setHeader(name, value);
  res.flushHeaders();
  if (options.recheckMs !== undefined) timers.push(setInterval(() => void pump(), options.recheckMs));
  timers.push(
    setInterval(() => {
      if (!ended) res.write(': heartbeat\n\n');
    }, options.heartbeatMs),
  );
  await pump();
}
