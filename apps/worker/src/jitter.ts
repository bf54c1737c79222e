/** `baseMs` ±25 %: spreads waits that many jobs or workers start at once, so they do not come back together. */
export function withJitter(baseMs: number, random: () => number = Math.random): number {
  return Math.round(baseMs * (0.75 + random() * 0.5));
}
