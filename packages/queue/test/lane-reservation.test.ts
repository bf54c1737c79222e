import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { testRedisUrl } from '@genqueue/testing';
import { createRedis, GatewayLaneGovernor } from '../src';

/** A lane's place taken before a job starts (withReserved), against a real Redis with an explicit clock. */
describe('GatewayLaneGovernor.withReserved', () => {
  const prefix = `gqtest-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let lane: string;
  const T0 = 1_900_000_000_000;

  beforeAll(async () => {
    redis = createRedis(testRedisUrl(), 'worker');
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
  });

  beforeEach(() => {
    lane = `lane-${randomBytes(3).toString('hex')}`;
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  // one request per second, a bucket of one
  const governor = () => new GatewayLaneGovernor(redis, prefix, () => 60, { burstSec: 1 });

  async function granted(g: GatewayLaneGovernor, at: number) {
    const grant = await g.acquire(lane, at);
    if (!grant.ok) throw new Error(`expected a place at ${at}`);
    return grant;
  }

  it("the job's first request of the lane uses the reserved place; the next one asks the bucket", async () => {
    const g = governor();
    const grant = await granted(g, T0);
    const seen = await g.withReserved(lane, grant, async () => [await g.acquire(lane, T0 + 1), await g.acquire(lane, T0 + 2)]);
    expect(seen[0]).toEqual({ ok: true, probe: false });
    // the bucket had one place, taken by the reservation
    expect(seen[1]).toMatchObject({ ok: false, reason: 'rate' });
  });

  it('a reserved place the job did not use goes back to the bucket', async () => {
    const g = governor();
    const grant = await granted(g, T0);
    expect((await g.acquire(lane, T0 + 1)).ok).toBe(false);
    await g.withReserved(lane, grant, async () => undefined);
    expect(await g.acquire(lane, T0 + 2)).toEqual({ ok: true, probe: false });
  });

  it('a failed job gives its unused place back too, and a reservation serves only its own lane', async () => {
    const g = governor();
    const other = `${lane}-other`;
    const grant = await granted(g, T0);
    await expect(
      g.withReserved(lane, grant, async () => {
        // another lane's request asks its own bucket (full: a place), not the reservation
        expect(await g.acquire(other, T0 + 1)).toEqual({ ok: true, probe: false });
        expect(await g.acquire(other, T0 + 2)).toMatchObject({ ok: false });
        throw new Error('the job failed before its request');
      }),
    ).rejects.toThrow('the job failed');
    expect(await g.acquire(lane, T0 + 3)).toEqual({ ok: true, probe: false });
  });

  it('work outside withReserved never sees a reservation', async () => {
    const g = governor();
    const grant = await granted(g, T0);
    await g.withReserved(lane, grant, async () => undefined);
    expect(await g.acquire(lane, T0 + 1)).toEqual({ ok: true, probe: false });
    expect(await g.acquire(lane, T0 + 2)).toMatchObject({ ok: false });
  });
});
