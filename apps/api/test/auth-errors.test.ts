import { randomBytes } from 'node:crypto';
import { freePort, HttpClient, startTsProcess, type Project, type TestStack } from '@genqueue/testing';
import { countJobRows, expectError, queuedJobIds, readSse, sql, startStack, stopStack } from './helpers';

const MAX_JSON_BYTES = Math.floor(0.01 * 1024 * 1024);

/** The error table of api.md, the service routes, and submissions while Redis is unreachable. */
describe('authentication, errors and service routes', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ env: { MAX_JSON_MB: '0.01' } });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const job = (prompt = 'a red fox') => ({ type: 'image.generate', input: { prompt } });

  async function revokedKeyOf(project: Project): Promise<string> {
    const created = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { key: stack.adminKey, body: { name: 'revoked' } });
    expect((await stack.api.delete(`/admin/v1/api-keys/${created.body.id}`, { key: stack.adminKey })).status).toBe(204);
    return created.body.key;
  }

  describe('401 unauthorized', () => {
    const routes: Array<[string, string]> = [
      ['GET', '/v1/jobs'],
      ['POST', '/v1/jobs'],
      ['POST', '/v1/jobs/bulk'],
      ['GET', '/v1/jobs/job_00000000000000000000000000'],
      ['POST', '/v1/jobs/job_00000000000000000000000000/cancel'],
      ['GET', '/v1/jobs/job_00000000000000000000000000/events'],
      ['POST', '/v1/files'],
      ['GET', '/v1/files/file_00000000000000000000000000'],
      ['GET', '/v1/artifacts/art_00000000000000000000000000/content'],
      ['GET', '/admin/v1/projects'],
    ];

    it.each(routes)('%s %s answers 401 to a missing, malformed, unknown or revoked key', async (method, path) => {
      const project = await stack.createProject();
      const revoked = await revokedKeyOf(project);
      const body = method === 'POST' ? (path.endsWith('bulk') ? { jobs: [job()] } : job()) : undefined;
      const attempts: Array<Record<string, string>> = [
        {},
        { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${project.key} extra` },
        { authorization: `Bearer gq_${randomBytes(24).toString('base64url')}` },
        { authorization: `Bearer ${revoked}` },
      ];
      for (const headers of attempts) {
        const res = await stack.api.request(method, path, { body, headers });
        if (res.status !== 401) throw new Error(`${JSON.stringify(headers)}: ${res.status} ${res.text}`);
        expectError(res, 401, 'unauthorized');
      }
      expect(await countJobRows(project.id)).toBe(0);
    });

    it('checks the key before reading the body', async () => {
      const res = await stack.api.post('/v1/jobs', { rawBody: '{not json', headers: { 'content-type': 'application/json' } });
      expectError(res, 401, 'unauthorized');
    });
  });

  it('answers 403 to a project key on an admin route', async () => {
    const project = await stack.createProject();
    expectError(await stack.api.get('/admin/v1/projects', { key: project.key }), 403, 'forbidden');
    expectError(await stack.api.post('/admin/v1/projects', { key: project.key, body: { name: `x-${randomBytes(4).toString('hex')}` } }), 403, 'forbidden');
  });

  describe('404 for another project’s job, exactly as for an unknown one', () => {
    // Every row has all three values: Jest would take a missing one for a `done` callback.
    const actions: Array<[string, string, Record<string, string>]> = [
      ['GET', '', {}],
      ['GET', '?wait=2', {}],
      ['POST', '/cancel', {}],
      ['POST', '/retry', {}],
      ['GET', '/events', { accept: 'application/json' }],
      ['GET', '/events', { accept: 'text/event-stream' }],
    ];

    it.each(actions)('%s /v1/jobs/{id}%s', async (method, suffix, headers) => {
      const owner = await stack.createProject();
      const other = await stack.createProject();
      const created = await stack.api.post('/v1/jobs', { key: owner.key, body: job() });
      const id = created.body.id as string;
      const unknownId = 'job_00000000000000000000000000';
      const foreign = await stack.api.request(method, `/v1/jobs/${id}${suffix}`, { key: other.key, headers });
      const unknown = await stack.api.request(method, `/v1/jobs/${unknownId}${suffix}`, { key: other.key, headers });
      expectError(foreign, 404, 'not_found');
      expectError(unknown, 404, 'not_found');
      expect(JSON.stringify(foreign.body).replaceAll(id, 'ID')).toBe(JSON.stringify(unknown.body).replaceAll(unknownId, 'ID'));
      expect((await stack.api.get(`/v1/jobs/${id}`, { key: owner.key })).body.status).not.toBe('canceled');
    });
  });

  describe('400 invalid_request', () => {
    it('for a body that is not JSON, with details', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, rawBody: "{'type': 'image.generate'}", headers: { 'content-type': 'application/json' } });
      const error = expectError(res, 400, 'invalid_request');
      expect(error.details).toEqual([{ path: '(body)', message: expect.any(String) }]);
      expect(await countJobRows(project.id)).toBe(0);
    });

    it('for a field of the wrong type, naming its path', async () => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'x', n: 'three', size: 5 } } });
      const error = expectError(res, 400, 'invalid_request');
      expect(error.details.map((d) => d.path).sort()).toEqual(['input.n', 'input.size']);
      expect(await countJobRows(project.id)).toBe(0);
      expect(await queuedJobIds(stack)).toEqual(before);
    });

    it('for an unknown job type', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.teleport', input: { prompt: 'x' } } });
      expect(expectError(res, 400, 'invalid_request').details).toEqual([{ path: 'type', message: expect.stringContaining('image.generate') }]);
      expect(await countJobRows(project.id)).toBe(0);
    });
  });

  describe('400 rather than 500 for input that cannot be stored or decoded', () => {
    it('refuses NUL characters, which Postgres cannot store, naming the field', async () => {
      const project = await stack.createProject();
      const inPrompt = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a\u0000b' } } });
      expect(expectError(inPrompt, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['input.prompt']);
      const inMetadata = await stack.api.post('/v1/jobs', { key: project.key, body: { ...job(), metadata: { k: 'a\u0000b' } } });
      expect(expectError(inMetadata, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['metadata.k']);
      const inBulk = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs: [job(), job('x\u0000')] } });
      expect(expectError(inBulk, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['jobs.1.input.prompt']);
      expect(await countJobRows(project.id)).toBe(0);
      for (const query of ['metadata[k]=a%00b', 'type=a%00b']) {
        expectError(await stack.api.get(`/v1/jobs?${query}`, { key: project.key }), 400, 'invalid_request');
      }
      expectError(await stack.api.get('/admin/v1/jobs?q=a%00b', { key: stack.adminKey }), 400, 'invalid_request');
      const keyName = await stack.api.post(`/admin/v1/projects/${project.id}/api-keys`, { key: stack.adminKey, body: { name: 'ci\u0000' } });
      expect(expectError(keyName, 400, 'invalid_request').details.map((d) => d.path)).toEqual(['name']);
    });

    it('answers 400 for a body nested too deep, on job, bulk, webhook and admin routes, and stores nothing', async () => {
      const project = await stack.createProject();
      const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
      const body = (levels: number) => Buffer.from(`{"type":"image.generate","input":{"prompt":"x"},"metadata":{"k":${deep(levels)}}}`);
      const headers = { 'content-type': 'application/json' };
      for (const levels of [100, 4_000]) {
        const res = await stack.api.post('/v1/jobs', { key: project.key, rawBody: body(levels), headers });
        expect(expectError(res, 400, 'invalid_request').message).toMatch(/nested deeper/);
      }
      const bulk = await stack.api.post('/v1/jobs/bulk', { key: project.key, rawBody: Buffer.from(`{"jobs":${deep(4_000)}}`), headers });
      expectError(bulk, 400, 'invalid_request');
      const endpoint = await stack.api.post('/v1/webhook-endpoints', { key: project.key, rawBody: Buffer.from(`{"url":${deep(4_000)}}`), headers });
      expectError(endpoint, 400, 'invalid_request');
      const admin = await stack.api.post('/admin/v1/projects', { key: stack.adminKey, rawBody: Buffer.from(`{"name":${deep(4_000)}}`), headers });
      expectError(admin, 400, 'invalid_request');
      expect(await countJobRows(project.id)).toBe(0);
    });

    it.each([
      ['/v1/jobs/%zz'],
      ['/v1/jobs/%E0%A4%A/events'],
      ['/v1/files/%E0%A4%A'],
      ['/v1/artifacts/%E0%A4%A/content'],
    ])('answers 400 for a path that is not valid percent-encoding: %s', async (path) => {
      const project = await stack.createProject();
      expectError(await stack.api.get(path, { key: project.key }), 400, 'invalid_request');
    });

    it('answers 400 for a body that does not inflate or has an unknown encoding', async () => {
      const project = await stack.createProject();
      const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
      expectError(await stack.api.post('/v1/jobs', { key: project.key, rawBody: Buffer.from('not gzip at all'), headers }), 400, 'invalid_request');
      const snappy = { 'content-type': 'application/json', 'content-encoding': 'snappy' };
      expectError(await stack.api.post('/v1/jobs', { key: project.key, rawBody: Buffer.from('{}'), headers: snappy }), 400, 'invalid_request');
      expect(await countJobRows(project.id)).toBe(0);
    });
  });

  describe('413 payload_too_large', () => {
    it.each([
      ['POST', '/v1/jobs'],
      ['POST', '/v1/jobs/bulk'],
      ['POST', '/admin/v1/projects'],
    ])('for a JSON body over MAX_JSON_MB on %s %s, storing nothing', async (method, path) => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const prompt = 'p'.repeat(MAX_JSON_BYTES + 100);
      const body = path.endsWith('bulk') ? { jobs: [job(prompt)] } : path.startsWith('/admin') ? { name: prompt } : job(prompt);
      const key = path.startsWith('/admin') ? stack.adminKey : project.key;
      const res = await stack.api.request(method, path, { key, body });
      expectError(res, 413, 'payload_too_large');
      expect(await countJobRows(project.id)).toBe(0);
      expect(await queuedJobIds(stack)).toEqual(before);
      // Just under the limit is parsed (and fails validation only where it should).
      const fits = await stack.api.post('/v1/jobs', { key: project.key, body: job('q'.repeat(MAX_JSON_BYTES - 200)) });
      expect(fits.status).toBe(202);
    });
  });

  describe('409 and the Idempotency-Key', () => {
    it('answers the same job with 200 for a repeat and 409 for another body', async () => {
      const project = await stack.createProject();
      const headers = { 'idempotency-key': `key-${randomBytes(4).toString('hex')}` };
      const first = await stack.api.post('/v1/jobs', { key: project.key, body: job('same'), headers });
      expect(first.status).toBe(202);
      const repeat = await stack.api.post('/v1/jobs', { key: project.key, body: job('same'), headers });
      expect(repeat.status).toBe(200);
      expect(repeat.body.id).toBe(first.body.id);
      expectError(await stack.api.post('/v1/jobs', { key: project.key, body: job('different'), headers }), 409, 'conflict');
      expect(await countJobRows(project.id)).toBe(1);
    });
  });

  describe('429 rate_limited', () => {
    /** Sends `count` submissions within one clock minute (the limiter's window); tries again if a minute boundary fell inside. */
    async function burst(limits: Record<string, number>, count: number): Promise<{ project: Project; answers: Awaited<ReturnType<HttpClient['post']>>[] }> {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const project = await stack.createProject(limits);
        const minute = Math.floor(Date.now() / 60_000);
        const answers = [];
        for (let i = 0; i < count; i += 1) answers.push(await stack.api.post('/v1/jobs', { key: project.key, body: job(`burst ${i}`) }));
        if (Math.floor(Date.now() / 60_000) === minute) return { project, answers };
      }
      throw new Error('three bursts in a row crossed a minute boundary');
    }

    it('answers 429 with Retry-After past the project’s requests_per_minute, storing nothing', async () => {
      const { project, answers } = await burst({ requests_per_minute: 3 }, 5);
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429, 429]);
      const limited = answers[3]!;
      expectError(limited, 429, 'rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      // a sliding window: a full minute can still weigh on the next one, so up to two minutes
      expect(retryAfter).toBeLessThanOrEqual(120);
      expect(answers[0]!.headers.get('x-ratelimit-limit')).toBe('3');
      expect(await countJobRows(project.id)).toBe(3);
      expectError(await stack.api.get('/v1/jobs', { key: project.key }), 429, 'rate_limited');
      // Other projects have their own budget.
      const other = await stack.createProject({ requests_per_minute: 3 });
      expect((await stack.api.post('/v1/jobs', { key: other.key, body: job() })).status).toBe(202);
    });
  });

  describe('service routes', () => {
    it('GET /healthz and /readyz answer 200', async () => {
      const health = await stack.api.get('/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await stack.api.get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
    });

    it('GET /openapi.json describes the job request from the validating schemas', async () => {
      const res = await stack.api.get('/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\.1/);
      // one branch per job type, chosen by `type`
      expect(doc.components.schemas.JobRequest.discriminator).toMatchObject({ propertyName: 'type', mapping: { 'image.generate': '#/components/schemas/ImageGenerateJobRequest' } });
      const request = doc.components.schemas.ImageGenerateJobRequest;
      expect(Object.keys(request.properties)).toEqual(
        expect.arrayContaining(['type', 'input', 'webhook_url', 'webhook_events', 'metadata', 'priority', 'ttl_seconds', 'deadline_seconds']),
      );
      expect(request.required).toEqual(expect.arrayContaining(['type', 'input']));
      expect(request.properties.priority).toMatchObject({ minimum: 1, maximum: 10 });
      expect(request.properties.input).toEqual({ $ref: '#/components/schemas/ImageGenerateInput' });
      expect(doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/JobRequest' });
      const imageInput = doc.components.schemas.ImageGenerateInput;
      expect(imageInput.required).toContain('prompt');
      expect(imageInput.properties.n).toMatchObject({ minimum: 1, maximum: 10 });
      for (const path of ['/v1/jobs', '/v1/jobs/bulk', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel', '/v1/jobs/{id}/retry', '/v1/jobs/{id}/events', '/v1/files', '/v1/files/{id}', '/v1/artifacts/{id}/content', '/admin/v1/projects', '/admin/v1/jobs']) {
        expect(Object.keys(doc.paths)).toContain(path);
      }
    });

    it('GET /metrics answers Prometheus text with request counts (to the admin key)', async () => {
      await stack.api.get('/healthz');
      const res = await stack.api.get('/metrics', { key: stack.adminKey });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^genqueue_http_requests_total\{[^}]*route="\/healthz"[^}]*\} \d+/m);
      expect(res.text).toContain('# TYPE genqueue_http_request_duration_seconds histogram');
    });

    it('answers 404 not_found as JSON for an unknown route', async () => {
      const project = await stack.createProject();
      expectError(await stack.api.get('/v2/jobs', { key: project.key }), 404, 'not_found');
      expectError(await stack.api.get('/v1/jobs/job_00000000000000000000000000/nothing', { key: project.key }), 404, 'not_found');
      expectError(await stack.api.request('PUT', '/v1/jobs', { key: project.key, body: job() }), 404, 'not_found');
      expect(await countJobRows(project.id)).toBe(0);
    });
  });

  describe('while Redis is unreachable', () => {
    it('accepts submissions (the row is the truth), reports not ready, answers ?wait and events, and the job runs once found', async () => {
      const port = await freePort();
      const api = startTsProcess('api-without-redis', 'apps/api/src/main.ts', { ...stack.env, PORT: String(port), REDIS_URL: 'redis://127.0.0.1:6399' }, stack.logDir);
      try {
        await api.waitForLine('api.listening', 60_000);
        const client = new HttpClient(`http://127.0.0.1:${port}`);
        const project = await stack.createProject();

        const ready = await client.get('/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body).toEqual({ status: 'unavailable', checks: { postgres: true, redis: false } });
        expect(Number(ready.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await client.get('/healthz')).status).toBe(200);

        const started = Date.now();
        const submitted = await client.post('/v1/jobs', { key: project.key, body: job('submitted while redis is down') });
        expect(submitted.status).toBe(202);
        expect(Date.now() - started).toBeLessThan(5_000);
        const [row] = await sql('SELECT status FROM jobs WHERE id = $1', [submitted.body.id]);
        expect(row).toEqual({ status: 'queued' });

        const waitStarted = Date.now();
        const waited = await client.get(`/v1/jobs/${submitted.body.id}?wait=1`, { key: project.key });
        expect(waited.status).toBe(200);
        expect(Date.now() - waitStarted).toBeLessThan(6_000);

        const stream = await readSse(`http://127.0.0.1:${port}/v1/jobs/${submitted.body.id}/events`, {
          key: project.key,
          timeoutMs: 5_000,
          stopWhen: (messages) => messages.some((m) => m.event === 'job.created'),
        });
        expect(stream.messages.some((m) => m.event === 'job.created')).toBe(true);

        // The sweeper finds the row that never reached Redis, and the job runs.
        const final = await stack.waitFinal(project.key, submitted.body.id);
        expect(final.status).toBe('succeeded');
      } finally {
        const killer = setTimeout(() => api.child.kill('SIGKILL'), 10_000);
        const stopStarted = Date.now();
        await api.stop();
        clearTimeout(killer);
        expect(Date.now() - stopStarted).toBeLessThan(10_000);
      }
    }, 90_000);
  });
});
