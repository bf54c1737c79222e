import { useEffect, useRef, useState } from 'react';
import type { JobEvent } from '../api/types';

export const JOB_EVENT_TYPES = [
  'job.created',
  'job.started',
  'job.progress',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'job.expired',
  'job.retried',
] as const;

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Subscribes to the admin SSE stream (`GET /admin/v1/events`, cookie auth, same origin) while the
 * component is mounted. EventSource reconnects by itself and sends Last-Event-ID.
 */
export function useJobEvents(onEvent: (event: JobEvent) => void, enabled = true): LiveState {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const source = new EventSource('/admin/v1/events', { withCredentials: true });
    const receive = (message: MessageEvent<string>) => {
      try {
        handler.current(JSON.parse(message.data) as JobEvent);
      } catch {
        // a frame that is not an event: ignore it
      }
    };
    source.onopen = () => setState('live');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'reconnecting' : 'reconnecting');
    source.onmessage = receive;
    for (const type of JOB_EVENT_TYPES) source.addEventListener(type, receive as EventListener);
    return () => source.close();
  }, [enabled]);
  return state;
}
