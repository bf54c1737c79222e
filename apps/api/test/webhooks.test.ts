import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { Project, TestStack } from '@genqueue/testing';
import { classifyAddress } from '@genqueue/webhooks';
import { expectError, nonSnakeKeys, sql, startStack, stopStack } from './helpers';

/** The webhook routes of api.md and the SSRF guard with ALLOW_PRIVATE_URLS=false. */
describe('webhook routes (ALLOW_PRIVATE_URLS=false)', () => {
  let stack: TestStack;
  let project: Project;
  let other: Project;

  beforeAll(async () => {
    stack = await startStack({ env: { ALLOW_PRIVATE_URLS: 'false', WEBHOOK_RETRY_SCHEDULE_MS: '60000' } });
    project = await stack.createProject();
    other = await stack.createProject();
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const refusedUrls = [
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://10.1.2.3/hook',
    'http://192.168.1.10/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://0.0.0.0/hook',
    'ftp://example.org/hook',
  ];

  it.each(refusedUrls)('refuses %s as a job webhook_url with 400, storing nothing', async (url) => {
    const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'x' }, webhook_url: url } });
    const error = expectError(res, 400, 'invalid_request');
    expect(error.details[0]?.path).toBe('webhook_url');
    const listed = await stack.api.get('/v1/jobs', { key: project.key });
    expect(listed.body.data).toEqual([]);
  });

  it.each(refusedUrls)('refuses %s as an endpoint url with 400', async (url) => {
    const res = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url } });
    expect(expectError(res, 400, 'invalid_request').details[0]?.path).toBe('url');
  });

  it('refuses at delivery a host name that resolves to a loopback or private address, recording the attempt', async () => {
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    // the machine's own name resolves to itself (loopback or a private address) on any test host
    expect(addresses.every((a) => classifyAddress(a.address) !== null)).toBe(true);
    const url = `http://${name}:9/hook`;
    const submitted = await stack.api.post('/v1/jobs', {
      key: project.key,
      body: { type: 'image.generate', input: { prompt: 'a fox for an inside address' }, webhook_url: url, webhook_events: ['job.succeeded'] },
    });
    expect(submitted.status).toBe(202);
    await stack.waitFinal(project.key, submitted.body.id);
    const deadline = Date.now() + 20_000;
    let delivery: any;
    for (;;) {
      const res = await stack.api.get(`/v1/webhook-deliveries?job_id=${submitted.body.id}`, { key: project.key });
      delivery = res.body.data[0];
      if (delivery?.attempts.length > 0 || Date.now() > deadline) break;
      // no event announces a recorded attempt
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // refused, and retried later on the schedule (the guard refuses again then)
    expect(delivery).toMatchObject({ status: 'pending', url, endpoint_id: null, event_type: 'job.succeeded' });
    expect(delivery.attempts).toHaveLength(1);
    // what the name resolved to stays in the worker's log, not in the tenant's delivery record
    expect(delivery.attempts[0]).toMatchObject({ status_code: null, error: 'refused: non-public address' });
  });

  it('rotates an endpoint secret: the new one shown once, the old one named as signing for 24 h more', async () => {
    const created = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: 'https://hooks.example.org/rotate' } });
    const rotated = await stack.api.post(`/v1/webhook-endpoints/${created.body.id}/rotate-secret`, { key: project.key, body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const [row] = await sql<{ secret: string; previous_secret: string }>('SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1', [created.body.id]);
    expect(row).toEqual({ secret: rotated.body.secret, previous_secret: created.body.secret });
    const listed = await stack.api.get('/v1/webhook-endpoints', { key: project.key });
    expect(listed.text).not.toContain(rotated.body.secret);
    expectError(await stack.api.post(`/v1/webhook-endpoints/${created.body.id}/rotate-secret`, { key: other.key, body: {} }), 404, 'not_found');
    expectError(await stack.api.post('/v1/webhook-endpoints/wep_nope/rotate-secret', { key: project.key, body: {} }), 404, 'not_found');
  });

  it('keeps the project secret stable until rotated', async () => {
    const first = await stack.api.get('/v1/webhook-secret', { key: project.key });
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^whsec_/);
    expect(Buffer.from(first.body.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect((await stack.api.get('/v1/webhook-secret', { key: project.key })).body.secret).toBe(first.body.secret);
    const rotated = await stack.api.post('/v1/webhook-secret/rotate', { key: project.key, body: {} });
    expect(rotated.body.secret).not.toBe(first.body.secret);
    expect((await stack.api.get('/v1/webhook-secret', { key: other.key })).body.secret).not.toBe(rotated.body.secret);
  });

  it('creates, lists and deletes endpoints per project; another project gets 404', async () => {
    const created = await stack.api.post('/v1/webhook-endpoints', {
      key: project.key,
      body: { url: 'https://hooks.example.org/genqueue', event_types: ['job.failed', 'job.succeeded'], description: 'prod' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^wep_[0-9A-Z]{26}$/),
      object: 'webhook_endpoint',
      url: 'https://hooks.example.org/genqueue',
      description: 'prod',
      event_types: ['job.failed', 'job.succeeded'],
      secret: expect.stringMatching(/^whsec_/),
      secret_prefix: `${created.body.secret.slice(0, 10)}…`,
      status: 'enabled',
      disabled_at: null,
      disabled_reason: null,
      created_at: expect.any(String),
    });
    expect(nonSnakeKeys(created.body)).toEqual([]);
    const mine = await stack.api.get('/v1/webhook-endpoints', { key: project.key });
    expect(mine.body.data.map((e: any) => e.id)).toContain(created.body.id);
    // the secret was shown once: lists carry its prefix only
    const listed = mine.body.data.find((e: any) => e.id === created.body.id);
    expect(listed.secret).toBeUndefined();
    expect(listed.secret_prefix).toBe(created.body.secret_prefix);
    expect(mine.text).not.toContain(created.body.secret);
    const theirs = await stack.api.get('/v1/webhook-endpoints', { key: other.key });
    expect(theirs.body.data.map((e: any) => e.id)).not.toContain(created.body.id);

    expectError(await stack.api.delete(`/v1/webhook-endpoints/${created.body.id}`, { key: other.key }), 404, 'not_found');
    expectError(await stack.api.delete('/v1/webhook-endpoints/nope', { key: project.key }), 404, 'not_found');
    expect((await stack.api.delete(`/v1/webhook-endpoints/${created.body.id}`, { key: project.key })).status).toBe(200);
    expectError(await stack.api.delete(`/v1/webhook-endpoints/${created.body.id}`, { key: project.key }), 404, 'not_found');
  });

  it('validates endpoint bodies and delivery queries with the contract error shape', async () => {
    const bad = await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: { url: 'https://x.example/h', event_types: ['job.created'], extra: 1 } });
    const error = expectError(bad, 400, 'invalid_request');
    const paths = error.details.map((d) => d.path);
    expect(paths.some((p) => p.startsWith('event_types'))).toBe(true);
    expect(paths.some((p) => p.includes('extra'))).toBe(true);
    expectError(await stack.api.post('/v1/webhook-endpoints', { key: project.key, body: {} }), 400, 'invalid_request');
    expectError(await stack.api.get('/v1/webhook-deliveries?status=lost', { key: project.key }), 400, 'invalid_request');
    expectError(await stack.api.get('/v1/webhook-deliveries?cursor=zzz', { key: project.key }), 400, 'invalid_request');
    expectError(await stack.api.get('/v1/webhook-deliveries?limit=1000', { key: project.key }), 400, 'invalid_request');
    expectError(await stack.api.get('/v1/webhook-deliveries', {}), 401, 'unauthorized');
  });

  it('lists deliveries per project with a cursor; reading or redelivering an unknown or foreign id is 404', async () => {
    const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: other.key, body: { url: 'https://hooks.example.org/other', event_types: ['job.succeeded'] } });
    expect(endpoint.status).toBe(201);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const job = await stack.runJob(other.key, { type: 'image.generate', input: { prompt: `a fox ${n}` } });
      ids.push(job.id);
    }
    const first = await stack.api.get('/v1/webhook-deliveries?limit=2', { key: other.key });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await stack.api.get(`/v1/webhook-deliveries?limit=2&cursor=${first.body.next_cursor}`, { key: other.key });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.data, ...second.body.data];
    expect(all.map((d: any) => d.job_id).sort()).toEqual([...ids].sort());
    for (const d of all) {
      expect(d).toMatchObject({ object: 'webhook_delivery', webhook_id: expect.stringMatching(/^msg_/), endpoint_id: endpoint.body.id, event_type: 'job.succeeded' });
      expect(nonSnakeKeys(d)).toEqual([]);
    }
    expect((await stack.api.get(`/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}`, { key: project.key })).body.data).toEqual([]);
    expect((await stack.api.get(`/v1/webhook-deliveries?job_id=${ids[0]}`, { key: other.key })).body.data).toHaveLength(1);

    const one = await stack.api.get(`/v1/webhook-deliveries/${all[0].id}`, { key: other.key });
    expect(one.status).toBe(200);
    // the worker may have made an attempt since the list was read: the delivery itself is the same
    const { attempts: _attempts, next_attempt_at: _next, ...stable } = all[0];
    expect(one.body).toMatchObject({ ...stable, attempts: expect.any(Array) });
    expect(nonSnakeKeys(one.body)).toEqual([]);

    const foreign = all[0].id as string;
    expectError(await stack.api.get(`/v1/webhook-deliveries/${foreign}`, { key: project.key }), 404, 'not_found');
    expectError(await stack.api.get('/v1/webhook-deliveries/not-a-delivery-id', { key: other.key }), 404, 'not_found');
    expectError(await stack.api.post(`/v1/webhook-deliveries/${foreign}/redeliver`, { key: project.key, body: {} }), 404, 'not_found');
    expectError(await stack.api.post('/v1/webhook-deliveries/whd_01ARZ3NDEKTSV4RRFFQ69G5FAV/redeliver', { key: other.key, body: {} }), 404, 'not_found');
  }, 60_000);
});
