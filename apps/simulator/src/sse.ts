import type { Response } from 'express';

export function openSse(res: Response): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
}

/** One `data:` event; strings are sent verbatim (for `[DONE]`). */
export function sendSseData(res: Response, payload: unknown): void {
  res.write(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
}

export function sendSsePing(res: Response): void {
  res.write(': PING\n\n');
}

const isGone = (res: Response): boolean => res.destroyed || res.writableEnded;

/** Waits `ms` unless the client goes away first; resolves whether the response is still open. */
export function pause(res: Response, ms: number): Promise<boolean> {
  if (isGone(res)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!isGone(res));
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once('close', onClose);
  });
}
