/**
 * Route keys name a simulated route for faults, counters and per-route limits. WARNING: tests
 * in other packages send these strings to `/_sim/faults`; add keys, do not rename them.
 */
export const ROUTE_KEYS = [
  'models',
  'balance',
  'images.generations',
  'images.edits',
  'gemini.generate',
  'chat.completions',
  'blobs',
  'not_found',
  // long-running tasks (video §8, Midjourney §9)
  'videos.create',
  'videos.remix',
  'videos.status',
  'videos.content',
  'mj.submit',
  'mj.fetch',
  'mj.list',
  'mj.image_seed',
  'mj.image',
  // audio (§10) and embeddings (§3)
  'audio.transcriptions',
  'audio.translations',
  'audio.speech',
  'embeddings',
  'gemini.embed',
] as const;

export type RouteKey = (typeof ROUTE_KEYS)[number];

/** A fault's `route`: a key, a dotted prefix of keys (`images`), or `*` for all. */
export function isRouteSelector(value: string): boolean {
  return value === '*' || ROUTE_KEYS.some((key) => key === value || key.startsWith(`${value}.`));
}

export function selectorMatches(selector: string, key: string): boolean {
  return selector === '*' || selector === key || key.startsWith(`${selector}.`);
}
