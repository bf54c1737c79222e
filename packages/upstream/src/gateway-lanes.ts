/**
 * The gateway's lanes, for pacing and health: requests of one lane share a rate and a breaker.
 * Submits and polls of tasks are separate lanes, so thousands of parked tasks being polled never
 * starve new submits (and the other way round).
 * WARNING: lane names are persisted (Redis keys, metrics labels).
 */
export const GATEWAY_LANES = ['image', 'video_submit', 'video_poll', 'mj_submit', 'mj_poll', 'audio', 'embedding'] as const;
export type GatewayLane = (typeof GATEWAY_LANES)[number];

const MJ_MODE = '(?:/mj(?:-fast|-relax|-turbo)?)';

const ROUTES: { method: string; pattern: RegExp; lane: GatewayLane }[] = [
  { method: 'POST', pattern: /^\/v1\/images\//, lane: 'image' },
  { method: 'POST', pattern: /^\/v1\/chat\/completions$/, lane: 'image' },
  { method: 'POST', pattern: /^\/v1beta\/models\/[^/]+:(?:stream)?generateContent$/i, lane: 'image' },
  { method: 'POST', pattern: /^\/v1\/videos$/, lane: 'video_submit' },
  { method: 'POST', pattern: /^\/v1\/videos\/[^/]+\/remix$/, lane: 'video_submit' },
  { method: 'GET', pattern: /^\/v1\/videos?\/[^/]+(?:\/content)?$/, lane: 'video_poll' },
  { method: 'GET', pattern: /^\/v1\/video\/generations\/[^/]+$/, lane: 'video_poll' },
  { method: 'POST', pattern: new RegExp(`^${MJ_MODE}/submit/`), lane: 'mj_submit' },
  { method: 'GET', pattern: new RegExp(`^${MJ_MODE}/task/[^/]+/(?:fetch|image-seed)$`), lane: 'mj_poll' },
  { method: 'POST', pattern: new RegExp(`^${MJ_MODE}/task/list-by-condition$`), lane: 'mj_poll' },
  { method: 'POST', pattern: /^\/v1\/audio\//, lane: 'audio' },
  { method: 'POST', pattern: /^\/v1\/(?:engines\/[^/]+\/)?embeddings$/, lane: 'embedding' },
  { method: 'POST', pattern: /^\/v1beta\/models\/[^/]+:(?:batchEmbedContents|embedContent)$/i, lane: 'embedding' },
];

/**
 * The lane of a request to the gateway, or null for what is not paced: account routes (balance,
 * models), downloads of result files, and any URL outside the gateway's origin.
 */
export function gatewayLaneOf(method: string, url: URL, base: URL): GatewayLane | null {
  if (url.origin !== base.origin) return null;
  const basePath = base.pathname.replace(/\/+$/, '');
  if (!url.pathname.startsWith(basePath)) return null;
  const path = url.pathname.slice(basePath.length) || '/';
  return ROUTES.find((route) => route.method === method && route.pattern.test(path))?.lane ?? null;
}
