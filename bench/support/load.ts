import { Pool } from 'undici';

export type LoadResult = { sent: number; ok: number; failed: number; seconds: number; perSecond: number; latenciesMs: number[] };

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export type Target = { origin: string; path: string; headers: Record<string, string>; body: (i: number) => unknown };

async function send(pool: Pool, target: Target, i: number): Promise<boolean> {
  const res = await pool.request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(target.body(i)),
  });
  await res.body.dump();
  return res.statusCode === 202 || res.statusCode === 200;
}

/** Closed loop: `connections` clients send back to back, for `seconds` or until `maxRequests`. */
export async function closedLoop(target: Target, connections: number, seconds: number, maxRequests = Infinity): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latenciesMs: number[] = [];
  let sent = 0;
  let ok = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline && sent < maxRequests) {
        const i = sent++;
        const t0 = performance.now();
        const good = await send(pool, target, i).catch(() => false);
        latenciesMs.push(performance.now() - t0);
        if (good) ok += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { sent, ok, failed: sent - ok, seconds: elapsed, perSecond: ok / elapsed, latenciesMs };
}

/**
 * Open loop: requests leave at `rate` per second whatever the answers do, and each latency counts
 * from its intended send time (so a stall shows in the figures instead of hiding, as it would in a
 * closed loop).
 */
export async function openLoop(target: Target, rate: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: 256, pipelining: 1 });
  const latenciesMs: number[] = [];
  const total = Math.round(rate * seconds);
  let ok = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const intended = started + (i * 1000) / rate;
    const wait = intended - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      send(pool, target, i)
        .catch(() => false)
        .then((good) => {
          latenciesMs.push(performance.now() - intended);
          if (good) ok += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { sent: total, ok, failed: total - ok, seconds: elapsed, perSecond: ok / elapsed, latenciesMs };
}
