import type { TestStack } from '@genqueue/testing';
import { expectError, useStack } from './helpers';

const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123';

/** /metrics is not public; routes without a key (artifact links) are limited per client address. */
describe('metrics and artifact route limits', () => {
  let stack: TestStack;
  useStack(
    (ready) => {
      stack = ready;
    },
    { withoutWorker: true, env: { METRICS_TOKEN, ARTIFACT_REQUESTS_PER_MINUTE: '5' } },
  );

  it('answers /metrics to the admin key and to METRICS_TOKEN only', async () => {
    const project = await stack.createProject();
    expectError(await stack.api.get('/metrics'), 401, 'unauthorized');
    expectError(await stack.api.get('/metrics', { key: 'not-the-token-0123456789' }), 401, 'unauthorized');
    expectError(await stack.api.get('/metrics', { key: project.key }), 403, 'forbidden');
    for (const key of [stack.adminKey, METRICS_TOKEN]) {
      const res = await stack.api.get('/metrics', { key });
      expect(res.status).toBe(200);
      expect(res.text).toContain('# TYPE genqueue_http_requests_total counter');
    }
    // the scraper's token opens nothing else
    expectError(await stack.api.get('/admin/v1/projects', { key: METRICS_TOKEN }), 401, 'unauthorized');
  });

  it('limits artifact requests per client address, signed links included; other routes are not affected', async () => {
    const link = `/v1/artifacts/art_00000000000000000000000000/content?expires=${Math.floor(Date.now() / 1000) + 3600}&sig=forged`;
    for (let i = 0; i < 5; i += 1) expectError(await stack.api.get(link), 403, 'forbidden');
    const refused = await stack.api.get(link);
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // keyed artifact reads share the address's budget
    const project = await stack.createProject();
    expectError(await stack.api.get('/v1/artifacts/art_00000000000000000000000000/content', { key: project.key }), 429, 'rate_limited');
    expect((await stack.api.get('/v1/jobs', { key: project.key })).status).toBe(200);
  });
});
