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
] as const;

export type RouteKey = (typeof ROUTE_KEYS)[number];

/** A fault's `route`: a key, a dotted prefix of keys (`images`), or `*` for all. */
export function isRouteSelector(value: string): boolean {
  return value === '*' || ROUTE_KEYS.some((key) => key === value || key.startsWith(`${value}.`));
}

export function selectorMatches(selector: string, key: string): boolean {
  return selector === '*' || selector === key || key.startsWith(`${selector}.`);
}
