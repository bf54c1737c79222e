import { Redis } from 'ioredis';
import type { TestStack } from '@genqueue/testing';
import { countJobRows, expectError, useStack } from './helpers';

/** The project rate limits: sliding one-minute windows in Redis; jobs in bulk requests each count. */
describe('project rate limits', () => {
  let stack: TestStack;
  let redis: Redis;
  // no worker: nothing but these requests touches the counters
  useStack(
    async (ready) => {
      stack = ready;
      redis = new Redis(String(ready.env['REDIS_URL']), { maxRetriesPerRequest: 1 });
    },
    { withoutWorker: true },
  );
  afterAll(() => redis?.disconnect());

  const image = (n: number) => ({ type: 'image.generate', input: { prompt: `a rate-limited fox ${n}` } });
  const counterKey = (projectId: string, what: 'requests' | 'jobs', minute: number) => `{${String(stack.env['QUEUE_PREFIX'])}:ratelimit:${projectId}}:${what}:${minute}`;

  /** Runs `body` inside one wall-clock minute (each counter key is one minute; the test reads them). */
  const withinOneMinute = async (needMs: number): Promise<void> => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50)); // waits for the clock, not for the API
  };

  it('answers 429 with Retry-After past requests_per_minute, concurrent requests included', async () => {
    const project = await stack.createProject({ requests_per_minute: 10 });
    await withinOneMinute(10_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.api.get('/v1/jobs', { key: project.key })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(10);
    for (const res of refused) {
      expectError(res, 429, 'rate_limited');
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    }
    // Nothing of the previous minute: the 11th unit fits once the 10 of this minute weigh 9, i.e.
    // 6 s into the next minute. Retry-After says that, not "at the next full minute".
    const elapsed = Date.now() % 60_000;
    const retryAfter = Number(refused[0]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((60_000 - elapsed + 6_000) / 1000) - 2);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((60_000 - elapsed + 6_000) / 1000) + 1);
  });

  it('slides: the previous minute still counts, weighted by how much of it lies in the last 60 s', async () => {
    const project = await stack.createProject({ requests_per_minute: 100 });
    await withinOneMinute(15_000);
    const minute = Math.floor(Date.now() / 60_000);
    // a full previous minute: a fixed window would allow 100 requests now
    await redis.set(counterKey(project.id, 'requests', minute - 1), '100', 'PX', 120_000);
    const start = (Date.now() % 60_000) / 60_000;
    let allowed = 0;
    for (let i = 0; i < 100; i += 1) {
      const res = await stack.api.get('/v1/jobs?limit=1', { key: project.key });
      if (res.status === 200) allowed += 1;
      else expectError(res, 429, 'rate_limited');
    }
    const end = (Date.now() % 60_000) / 60_000;
    expect(Math.floor(Date.now() / 60_000)).toBe(minute);
    // about 100 × (the fraction of this minute gone): the previous minute's weight is 1 - fraction
    expect(allowed).toBeGreaterThanOrEqual(Math.floor(100 * start) - 1);
    expect(allowed).toBeLessThanOrEqual(Math.ceil(100 * end) + 1);
    expect(allowed).toBeLessThan(100);
  }, 60_000);

  it('counts every job of a bulk request against jobs_per_minute; a refused bulk stores nothing', async () => {
    const project = await stack.createProject({ requests_per_minute: 1_000, jobs_per_minute: 50 });
    await withinOneMinute(10_000);
    const bulk = (n: number, from = 0) => stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: Array.from({ length: n }, (_, i) => image(from + i)) } });

    expect((await bulk(30)).status).toBe(202);
    const refused = await bulk(30, 30);
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await countJobRows(project.id)).toBe(30);
    // what fits still goes: 30 + 20 = 50
    expect((await bulk(20, 60)).status).toBe(202);
    expectError(await stack.api.post('/v1/jobs', { key: project.key, body: image(99) }), 429, 'rate_limited');
    expect(await countJobRows(project.id)).toBe(50);
    // a bulk larger than the whole limit can never fit, and says so
    const never = await bulk(51, 100);
    expect(expectError(never, 429, 'rate_limited').message).toMatch(/more than this project's limit of 50 jobs per minute/);
    expect(await countJobRows(project.id)).toBe(50);
  });

  it('counts a single submission once in each window; a job refused leaves its request counted and stores nothing', async () => {
    const project = await stack.createProject({ requests_per_minute: 100, jobs_per_minute: 3 });
    await withinOneMinute(10_000);
    const minute = Math.floor(Date.now() / 60_000);
    for (let i = 0; i < 3; i += 1) expect((await stack.api.post('/v1/jobs', { key: project.key, body: image(i) })).status).toBe(202);
    const refused = await stack.api.post('/v1/jobs', { key: project.key, body: image(3) });
    expect(expectError(refused, 429, 'rate_limited').message).toBe('This project is limited to 3 jobs per minute');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('96');
    expect(await countJobRows(project.id)).toBe(3);
    expect(await redis.get(counterKey(project.id, 'requests', minute))).toBe('4');
    expect(await redis.get(counterKey(project.id, 'jobs', minute))).toBe('3');
  });

  it('limits jobs to ten times requests_per_minute when jobs_per_minute is unset: one bulk request is not a way around it', async () => {
    const project = await stack.createProject({ requests_per_minute: 5 });
    await withinOneMinute(10_000);
    const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: Array.from({ length: 51 }, (_, i) => image(i)) } });
    expectError(res, 429, 'rate_limited');
    expect(await countJobRows(project.id)).toBe(0);
    expect((await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: Array.from({ length: 50 }, (_, i) => image(i)) } })).status).toBe(202);
    expect(await countJobRows(project.id)).toBe(50);
  });
});
