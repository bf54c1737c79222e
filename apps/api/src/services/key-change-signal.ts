import { ActiveKeyCache } from '@genqueue/db';
import type { Redis } from 'ioredis';

/** How long an API process answers a key from memory when no change reaches it (a lost signal). */
export const ACTIVE_KEY_CACHE_MS = 5_000;

/** WARNING: shared by every API process of a deployment: a message on it empties their key caches. */
export const keyChangesChannel = (queuePrefix: string): string => `${queuePrefix}:api-key-changes`;

/**
 * The API's key cache, told of changes made by any API process through Redis pub/sub. It caches
 * only while this process is subscribed: while the subscriber is down a change could go unheard, so
 * every request reads the table, and the cache starts empty again once it is back.
 */
export function activeKeyCache(publisher: Redis, subscriber: Redis, channel: string, ttlMs = ACTIVE_KEY_CACHE_MS): ActiveKeyCache {
  let isSubscribed = false;
  const cache = new ActiveKeyCache(ttlMs, {
    isListening: () => isSubscribed && subscriber.status === 'ready',
    announce: async () => {
      if (publisher.status === 'ready') await publisher.publish(channel, 'changed');
    },
  });
  subscriber.on('message', (from: string) => {
    if (from === channel) cache.forget();
  });
  // changes made while the connection was down were never heard
  subscriber.on('close', () => cache.forget());
  subscriber.on('ready', () => cache.forget());
  // ioredis subscribes again after every reconnect; until the first subscription answers, nothing is cached
  subscriber
    .subscribe(channel)
    .then(() => {
      isSubscribed = true;
    })
    .catch(() => undefined);
  return cache;
}
