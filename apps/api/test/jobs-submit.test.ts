import type { TestStack } from '@genqueue/testing';
import { countJobRows, expectError, ISO_TIME, JOB_ID, nonSnakeKeys, queuedJobIds, sql, startStack, stopStack } from './helpers';

/**
 * POST /v1/jobs and POST /v1/jobs/bulk. No worker runs here, so accepted jobs stay queued and
 * their BullMQ entries can be inspected.
 */
describe('job submission', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  const fileId = (n: number) => `file_${String(n).padStart(26, '0')}`;
  const artifactId = (n: number) => `art_${String(n).padStart(26, '0')}`;

  describe('POST /v1/jobs', () => {
    it('answers 202 with the whole job, stores the row and enqueues it under the row id', async () => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { prompt: 'a red fox in snow' } } });
      expect(res.status).toBe(202);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const job = res.body;
      expect(job).toEqual({
        id: expect.stringMatching(JOB_ID),
        object: 'job',
        type: 'image.generate',
        status: 'queued',
        progress: 0,
        input: { prompt: 'a red fox in snow', model: 'gpt-image-1', n: 1 },
        output: null,
        error: null,
        artifacts: [],
        metadata: {},
        webhook_url: null,
        webhook_events: [],
        priority: 5,
        attempts: 0,
        upstream: { task_id: null, status: null },
        parent_id: null,
        created_at: expect.stringMatching(ISO_TIME),
        started_at: null,
        finished_at: null,
        pruned_at: null,
      });
      expect(Math.abs(Date.parse(job.created_at) - Date.now())).toBeLessThan(60_000);
      expect(nonSnakeKeys(job)).toEqual([]);

      const rows = await sql('SELECT id, status, type, priority FROM jobs WHERE project_id = $1', [project.id]);
      expect(rows).toEqual([{ id: job.id, status: 'queued', type: 'image.generate', priority: 5 }]);
      const events = await sql('SELECT seq, type FROM job_events WHERE job_id = $1', [job.id]);
      expect(events).toEqual([{ seq: 1, type: 'job.created' }]);
      const after = await queuedJobIds(stack);
      expect(after.filter((id) => !before.includes(id))).toEqual([job.id]);

      const read = await stack.api.get(`/v1/jobs/${job.id}`, { key: project.key });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(job);
    });

    it('keeps every optional field of the envelope', async () => {
      const project = await stack.createProject();
      const body = {
        type: 'image.generate',
        input: { prompt: 'a lighthouse', model: 'dall-e-3', n: 2, size: '1024x1024', quality: 'hd' },
        webhook_url: 'https://example.org/hooks/genqueue',
        webhook_events: ['job.succeeded', 'job.failed'],
        metadata: { order: 'A-1001', customer: 'c-42' },
        priority: 1,
        ttl_seconds: 600,
        deadline_seconds: 120,
      };
      const res = await stack.api.post('/v1/jobs', { key: project.key, body });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        input: body.input,
        webhook_url: body.webhook_url,
        webhook_events: body.webhook_events,
        metadata: body.metadata,
        priority: 1,
      });
      const [row] = await sql<{ priority: number; deadline_sec: number; ttl_ms: string }>(
        `SELECT priority, deadline_sec, (extract(epoch from queue_expires_at - created_at) * 1000)::bigint::text AS ttl_ms FROM jobs WHERE id = $1`,
        [res.body.id],
      );
      expect(row).toEqual({ priority: 1, deadline_sec: 120, ttl_ms: '600000' });
    });

    it.each([
      ['image.generate', { prompt: 'a cat' }],
      ['image.edit', { prompt: 'make it blue', images: [{ url: 'https://example.org/cat.png' }] }],
      ['image.gemini', { prompt: 'a cat', aspect_ratio: '16:9' }],
      ['media.chat', { model: 'gpt-4o-image', messages: [{ role: 'user', content: 'draw a cat' }] }],
    ])('accepts a minimal %s job', async (type, input) => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, body: { type, input } });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ type, status: 'queued', input });
    });

    const invalid: Array<[string, unknown, string]> = [
      ['n of the wrong type', { type: 'image.generate', input: { prompt: 'x', n: 'two' } }, 'input.n'],
      ['n out of range', { type: 'image.generate', input: { prompt: 'x', n: 0 } }, 'input.n'],
      ['n not an integer', { type: 'image.generate', input: { prompt: 'x', n: 1.5 } }, 'input.n'],
      ['no prompt', { type: 'image.generate', input: {} }, 'input.prompt'],
      ['a blank prompt', { type: 'image.generate', input: { prompt: '   ' } }, 'input.prompt'],
      ['a malformed size', { type: 'image.generate', input: { prompt: 'x', size: 'huge' } }, 'input.size'],
      ['an unknown quality', { type: 'image.generate', input: { prompt: 'x', quality: 'ultra' } }, 'input.quality'],
      ['an unknown input field', { type: 'image.generate', input: { prompt: 'x', colour: 'red' } }, 'input.colour'],
      ['no input', { type: 'image.generate' }, 'input'],
      ['an input that is an array', { type: 'image.generate', input: ['x'] }, 'input'],
      ['no type', { input: { prompt: 'x' } }, 'type'],
      ['an unknown type', { type: 'video.nope', input: { prompt: 'x' } }, 'type'],
      ['a type of the wrong type', { type: 7, input: { prompt: 'x' } }, 'type'],
      ['priority 0', { type: 'image.generate', input: { prompt: 'x' }, priority: 0 }, 'priority'],
      ['priority 11', { type: 'image.generate', input: { prompt: 'x' }, priority: 11 }, 'priority'],
      ['a string priority', { type: 'image.generate', input: { prompt: 'x' }, priority: '1' }, 'priority'],
      ['a negative ttl', { type: 'image.generate', input: { prompt: 'x' }, ttl_seconds: -1 }, 'ttl_seconds'],
      ['a deadline over 7 days', { type: 'image.generate', input: { prompt: 'x' }, deadline_seconds: 8 * 86_400 }, 'deadline_seconds'],
      ['a non-http webhook', { type: 'image.generate', input: { prompt: 'x' }, webhook_url: 'ftp://example.org/x' }, 'webhook_url'],
      ['a webhook that is no URL', { type: 'image.generate', input: { prompt: 'x' }, webhook_url: 'not a url' }, 'webhook_url'],
      ['an unknown webhook event', { type: 'image.generate', input: { prompt: 'x' }, webhook_events: ['job.exploded'] }, 'webhook_events.0'],
      ['a numeric metadata value', { type: 'image.generate', input: { prompt: 'x' }, metadata: { order: 5 } }, 'metadata.order'],
      [
        'more than 50 metadata keys',
        { type: 'image.generate', input: { prompt: 'x' }, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
        'metadata',
      ],
      ['an edit without images', { type: 'image.edit', input: { prompt: 'x', images: [] } }, 'input.images'],
      ['a malformed file id', { type: 'image.edit', input: { prompt: 'x', images: [{ file_id: 'nope' }] } }, 'input.images.0'],
      ['a file: media URL', { type: 'image.edit', input: { prompt: 'x', images: [{ url: 'file:///etc/passwd' }] } }, 'input.images.0'],
      ['an unknown file', { type: 'image.edit', input: { prompt: 'x', images: [{ file_id: fileId(1) }] } }, 'input.images.0.file_id'],
      [
        'an unknown artifact as a mask',
        { type: 'image.edit', input: { prompt: 'x', images: [{ url: 'https://example.org/a.png' }], mask: { artifact_id: artifactId(2) } } },
        'input.mask.artifact_id',
      ],
      ['a chat without messages', { type: 'media.chat', input: { model: 'gpt-4o-image', messages: [] } }, 'input.messages'],
      ['a chat message with an unknown role', { type: 'media.chat', input: { model: 'm', messages: [{ role: 'robot', content: 'hi' }] } }, 'input.messages.0.role'],
      ['a body that is a JSON string', 'just a string', '(body)'],
      ['a body that is a JSON array', [{ type: 'image.generate', input: { prompt: 'x' } }], '(body)'],
      ['a body that is JSON null', null, '(body)'],
    ];

    it.each(invalid)('rejects %s with 400 naming the field, storing and enqueueing nothing', async (_name, body, path) => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const res = await stack.api.post('/v1/jobs', { key: project.key, rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const error = expectError(res, 400, 'invalid_request');
      expect(error.details.length).toBeGreaterThan(0);
      for (const detail of error.details) expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
      expect(error.details.map((d) => d.path)).toContainEqual(expect.stringMatching(new RegExp(`^${path.replace(/[.()]/g, '\\$&')}`)));
      expect(await countJobRows(project.id)).toBe(0);
      expect(await queuedJobIds(stack)).toEqual(before);
    });

    it('rejects a body that is not JSON with 400 and details', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, rawBody: '{"type": "image.generate", "input": {', headers: { 'content-type': 'application/json' } });
      const error = expectError(res, 400, 'invalid_request');
      expect(error.details).toEqual([{ path: '(body)', message: expect.any(String) }]);
      expect(await countJobRows(project.id)).toBe(0);
    });

    it('rejects JSON sent without a JSON content type', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', {
        key: project.key,
        rawBody: JSON.stringify({ type: 'image.generate', input: { prompt: 'x' } }),
        headers: { 'content-type': 'text/plain' },
      });
      expectError(res, 400, 'invalid_request');
      expect(await countJobRows(project.id)).toBe(0);
    });

    it('rejects an empty body', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, rawBody: '', headers: { 'content-type': 'application/json' } });
      expectError(res, 400, 'invalid_request');
      expect(await countJobRows(project.id)).toBe(0);
    });

    it('does not accept media of another project', async () => {
      const owner = await stack.createProject();
      const other = await stack.createProject();
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
      const form = new FormData();
      form.append('purpose', 'image');
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
      const upload = await stack.api.post('/v1/files', { key: owner.key, rawBody: form });
      expect(upload.status).toBe(201);
      const input = { prompt: 'x', images: [{ file_id: upload.body.id }] };
      const foreign = await stack.api.post('/v1/jobs', { key: other.key, body: { type: 'image.edit', input } });
      expect(expectError(foreign, 400, 'invalid_request').details).toEqual([{ path: 'input.images.0.file_id', message: expect.any(String) }]);
      expect(await countJobRows(other.id)).toBe(0);
      const own = await stack.api.post('/v1/jobs', { key: owner.key, body: { type: 'image.edit', input } });
      expect(own.status).toBe(202);
    });
  });

  describe('Idempotency-Key', () => {
    const body = { type: 'image.generate', input: { prompt: 'idempotent fox', n: 2 }, metadata: { a: '1', b: '2' } };

    it('answers the same job with 200 for the same key and body, whatever the key order', async () => {
      const project = await stack.createProject();
      const headers = { 'idempotency-key': 'order-1001' };
      const first = await stack.api.post('/v1/jobs', { key: project.key, body, headers });
      expect(first.status).toBe(202);
      const again = await stack.api.post('/v1/jobs', { key: project.key, body, headers });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const reordered = { metadata: { b: '2', a: '1' }, input: { n: 2, prompt: 'idempotent fox' }, type: 'image.generate' };
      const third = await stack.api.post('/v1/jobs', { key: project.key, body: reordered, headers });
      expect(third.status).toBe(200);
      expect(third.body.id).toBe(first.body.id);
      expect(await countJobRows(project.id)).toBe(1);
    });

    it('answers 409 for the same key with another body, storing nothing', async () => {
      const project = await stack.createProject();
      const headers = { 'idempotency-key': 'order-1002' };
      const first = await stack.api.post('/v1/jobs', { key: project.key, body, headers });
      expect(first.status).toBe(202);
      const before = await queuedJobIds(stack);
      const other = await stack.api.post('/v1/jobs', { key: project.key, body: { ...body, input: { prompt: 'another fox' } }, headers });
      expectError(other, 409, 'conflict');
      expect(await countJobRows(project.id)).toBe(1);
      expect(await queuedJobIds(stack)).toEqual(before);
      const read = await stack.api.get(`/v1/jobs/${first.body.id}`, { key: project.key });
      expect(read.body.input.prompt).toBe('idempotent fox');
    });

    it('scopes keys to the project', async () => {
      const a = await stack.createProject();
      const b = await stack.createProject();
      const headers = { 'idempotency-key': 'shared-key' };
      const first = await stack.api.post('/v1/jobs', { key: a.key, body, headers });
      const second = await stack.api.post('/v1/jobs', { key: b.key, body: { ...body, input: { prompt: 'other' } }, headers });
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).not.toBe(first.body.id);
    });

    it('does not reserve the key for a request that failed validation', async () => {
      const project = await stack.createProject();
      const headers = { 'idempotency-key': 'retry-after-fix' };
      const bad = await stack.api.post('/v1/jobs', { key: project.key, body: { type: 'image.generate', input: { n: 1 } }, headers });
      expectError(bad, 400, 'invalid_request');
      const good = await stack.api.post('/v1/jobs', { key: project.key, body, headers });
      expect(good.status).toBe(202);
    });

    it('gives concurrent requests with one key one job', async () => {
      const project = await stack.createProject();
      const headers = { 'idempotency-key': 'concurrent' };
      const answers = await Promise.all(Array.from({ length: 8 }, () => stack.api.post('/v1/jobs', { key: project.key, body, headers })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await countJobRows(project.id)).toBe(1);
    });

    it.each([
      ['too long', 'k'.repeat(256)],
      ['with spaces', 'has spaces in it'],
    ])('rejects a key that is %s with 400', async (_name, value) => {
      const project = await stack.createProject();
      const res = await stack.api.post('/v1/jobs', { key: project.key, body, headers: { 'idempotency-key': value } });
      expect(expectError(res, 400, 'invalid_request').details[0]?.path).toBe('Idempotency-Key');
      expect(await countJobRows(project.id)).toBe(0);
    });
  });

  describe('POST /v1/jobs/bulk', () => {
    it('answers 202 with a job or an error per item, in order, and stores only the valid ones', async () => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const jobs = [
        { type: 'image.generate', input: { prompt: 'one' }, metadata: { i: '0' } },
        { type: 'image.generate', input: { prompt: 'two', n: 'many' } },
        { type: 'image.gemini', input: { prompt: 'three' }, metadata: { i: '2' } },
        { type: 'nope.nothing', input: {} },
        'not even an object',
        { type: 'image.generate', input: { prompt: 'six' }, metadata: { i: '5' } },
      ];
      const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
      expect(res.status).toBe(202);
      const data = res.body.data as any[];
      expect(data).toHaveLength(6);
      expect(data[0]).toMatchObject({ object: 'job', status: 'queued', input: { prompt: 'one' }, metadata: { i: '0' } });
      expect(data[1]).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: [{ path: 'input.n', message: expect.any(String) }] } });
      expect(data[2]).toMatchObject({ object: 'job', type: 'image.gemini', metadata: { i: '2' } });
      expect(data[3]).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: [{ path: 'type', message: expect.any(String) }] } });
      expect(data[4]).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: expect.any(Array) } });
      expect(data[5]).toMatchObject({ object: 'job', metadata: { i: '5' } });
      const ids = [data[0].id, data[2].id, data[5].id];
      const rows = await sql<{ id: string }>('SELECT id FROM jobs WHERE project_id = $1 ORDER BY id', [project.id]);
      expect(rows.map((r) => r.id)).toEqual([...ids].sort());
      const added = (await queuedJobIds(stack)).filter((id) => !before.includes(id));
      expect(added).toEqual([...ids].sort());
      // each stored job has its own job.created event, its snapshot as submitted
      for (const job of [data[0], data[2], data[5]]) {
        const events = await stack.api.get(`/v1/jobs/${job.id}/events`, { key: project.key, headers: { accept: 'application/json' } });
        expect(events.body.data).toEqual([expect.objectContaining({ object: 'event', type: 'job.created', job_id: job.id, seq: 1, data: job })]);
      }
    });

    it('accepts 1,000 jobs in one request', async () => {
      const project = await stack.createProject();
      const jobs = Array.from({ length: 1000 }, (_, i) => ({ type: 'image.generate', input: { prompt: `bulk ${i}` } }));
      const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body: { jobs } });
      expect(res.status).toBe(202);
      expect(res.body.data).toHaveLength(1000);
      expect(res.body.data.every((j: any, i: number) => j.object === 'job' && j.input.prompt === `bulk ${i}`)).toBe(true);
      expect(await countJobRows(project.id)).toBe(1000);
      const ids = new Set<string>(res.body.data.map((j: any) => j.id));
      expect(ids.size).toBe(1000);
      expect((await queuedJobIds(stack)).filter((id) => ids.has(id))).toHaveLength(1000);
    }, 90_000);

    it.each([
      ['no jobs field', {}, 'jobs'],
      ['jobs that is not an array', { jobs: { type: 'image.generate' } }, 'jobs'],
      ['an empty list', { jobs: [] }, 'jobs'],
      ['1,001 jobs', { jobs: Array.from({ length: 1001 }, () => ({ type: 'image.generate', input: { prompt: 'x' } })) }, 'jobs'],
      ['an unknown field', { jobs: [{ type: 'image.generate', input: { prompt: 'x' } }], extra: true }, 'extra'],
    ])('rejects %s with 400 and stores nothing', async (_name, body, path) => {
      const project = await stack.createProject();
      const before = await queuedJobIds(stack);
      const res = await stack.api.post('/v1/jobs/bulk', { key: project.key, body });
      expect(expectError(res, 400, 'invalid_request').details.map((d) => d.path)).toContain(path);
      expect(await countJobRows(project.id)).toBe(0);
      expect(await queuedJobIds(stack)).toEqual(before);
    });
  });

  describe('with the admin key', () => {
    it('submits into the project named by ?project_id=', async () => {
      const project = await stack.createProject();
      const res = await stack.api.post(`/v1/jobs?project_id=${project.id}`, { key: stack.adminKey, body: { type: 'image.generate', input: { prompt: 'x' } } });
      expect(res.status).toBe(202);
      expect(await countJobRows(project.id)).toBe(1);
      const read = await stack.api.get(`/v1/jobs/${res.body.id}`, { key: project.key });
      expect(read.status).toBe(200);
    });

    it('needs a project to submit into', async () => {
      const res = await stack.api.post('/v1/jobs', { key: stack.adminKey, body: { type: 'image.generate', input: { prompt: 'x' } } });
      expect(expectError(res, 400, 'invalid_request').details[0]?.path).toBe('project_id');
    });

    it('answers 404 for an unknown project and stores nothing', async () => {
      const before = await queuedJobIds(stack);
      const unknown = 'prj_00000000000000000000000000';
      const res = await stack.api.post(`/v1/jobs?project_id=${unknown}`, { key: stack.adminKey, body: { type: 'image.generate', input: { prompt: 'x' } } });
      expectError(res, 404, 'not_found');
      expect(await countJobRows(unknown)).toBe(0);
      expect(await queuedJobIds(stack)).toEqual(before);
    });
  });
});
