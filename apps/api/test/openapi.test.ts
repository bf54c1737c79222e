import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import pino from 'pino';
import { z } from 'zod';
import { loadSettings } from '@genqueue/config';
import { JOB_TYPES } from '@genqueue/core';
import type { HttpAnswer, TestStack } from '@genqueue/testing';
import { createApp } from '../src/app';
import { buildApiDeps } from '../src/deps';
import { ErrorBodySchema } from '../src/middleware/error-handler';
import { buildOpenApiDocument, ERROR_STATUSES, OPERATIONS, requestSchema, typeName, type Operation } from '../src/openapi';
import { BULL_BOARD_PATH } from '../src/routes/bull-board.routes';
import { DOCS_ASSETS } from '../src/routes/docs.routes';
import { ProjectLastEventIdSchema } from '../src/routes/events.routes';
import { LastEventIdSchema } from '../src/routes/schemas';
import { CreateEndpointSchema, ListDeliveriesQuerySchema } from '../src/routes/webhooks.routes';
import { AdminEventSchema, PublicEventSchema } from '../src/services/job-views';
import { eventually, makePng, readSse, startStack, stopStack, uploadForm } from './helpers';
import { EXAMPLE_INPUTS } from './openapi-examples';

type Route = { method: string; path: string };

/**
 * Routers whose own routes are not the API's: bull-board's UI and its JSON API below its page.
 * The page itself is documented (GET /admin/queues); what lies below it is bull-board's.
 */
const OPAQUE_MOUNTS = new Set([BULL_BOARD_PATH]);

/** `/v1/jobs/:id` → `/v1/jobs/{id}`; a trailing slash of a router's `/` dropped. */
function openApiPath(path: string): string {
  const converted = path.replace(/:(\w+)/g, '{$1}').replace(/\/+/g, '/');
  return converted.length > 1 ? converted.replace(/\/$/, '') : converted;
}

type Layer = { rawPath?: unknown; route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

/**
 * Every route Express 5 really mounts: `app.router.stack`, and the stacks of the routers mounted
 * in it (a layer's `rawPath` is its mount path). A route whose path is a RegExp is a page's
 * catch-all (the dashboard's client routes): it stands for GET of its mount path.
 */
function mountedRoutes(app: Express): Route[] {
  const out: Route[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          const methods = Object.keys(layer.route.methods).filter((m) => layer.route?.methods[m]);
          if (path instanceof RegExp) out.push({ method: 'get', path: openApiPath(prefix) });
          else if (typeof path === 'string') for (const method of methods) out.push({ method, path: openApiPath(prefix + path) });
          else throw new Error(`a route path of unknown form below ${prefix}: ${String(path)}`);
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        if (typeof layer.rawPath !== 'string') throw new Error(`a router mounted below ${prefix || '/'} at a path of unknown form`);
        const mount = openApiPath(prefix + layer.rawPath);
        if (OPAQUE_MOUNTS.has(mount)) out.push({ method: 'get', path: mount });
        else walk(layer.handle.stack, mount === '/' ? '' : mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  const unique = new Map(out.map((r) => [`${r.method} ${r.path}`, r]));
  return [...unique.values()];
}

/** The operation a concrete request path answers to; literal segments win over `{param}` ones. */
function operationFor(method: string, url: string): Operation | undefined {
  const path = url.split('?')[0] ?? url;
  const matches = OPERATIONS.filter(
    (op) => op.method === method.toLowerCase() && new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path),
  );
  return matches.sort((a, b) => (a.path.match(/\{/g) ?? []).length - (b.path.match(/\{/g) ?? []).length)[0];
}

describe('GET /openapi.json', () => {
  let stack: TestStack;
  let doc: any;
  let admin: string;
  let key: string;
  let projectId: string;
  let hooks: Server;
  let hookUrl: string;
  /** `method path` of every operation a real answer was checked for */
  const exercised = new Set<string>();

  /** Holds a real answer against the schema its operation documents for that status. */
  function check(method: string, url: string, res: HttpAnswer): HttpAnswer {
    const op = operationFor(method, url);
    if (!op) throw new Error(`${method} ${url} matches no documented operation`);
    const where = `${method} ${url} → ${res.status}`;
    let spec = op.responses[res.status];
    if (!spec && (ERROR_STATUSES as readonly number[]).includes(res.status) && op.access !== 'public') spec = { description: 'error', json: ErrorBodySchema };
    if (!spec) throw new Error(`${where}: the status is not documented (${res.text.slice(0, 300)})`);
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('application/json') && spec.json) {
      const parsed = spec.json.safeParse(res.body);
      if (!parsed.success) throw new Error(`${where}: ${z.prettifyError(parsed.error)}\n${res.text.slice(0, 1000)}`);
      // nothing undocumented either: what the schema keeps is the whole answer
      expect({ where, body: parsed.data }).toEqual({ where, body: res.body });
    } else if (res.status === 204 || res.status === 302) {
      expect(res.text).toBe(res.status === 204 ? '' : res.text);
    } else {
      const documented = Object.keys(spec.other ?? {});
      if (!documented.some((type) => contentType.startsWith(type) || type === 'application/octet-stream')) {
        throw new Error(`${where}: answered ${contentType}, documented ${documented.join(', ') || 'application/json'}`);
      }
    }
    exercised.add(`${op.method} ${op.path}`);
    return res;
  }

  const call = async (method: string, url: string, options: Parameters<TestStack['api']['request']>[2] = {}): Promise<HttpAnswer> =>
    check(method, url, await stack.api.request(method, url, options));

  /** An SSE route: the stream opens, and each event it sends is the documented event. */
  async function checkStream(url: string, apiKey: string, lastEventId: string, schema: z.ZodType): Promise<void> {
    const result = await readSse(`${stack.apiUrl}${url}`, {
      key: apiKey,
      headers: { 'last-event-id': lastEventId },
      stopWhen: (messages) => messages.some((m) => m.data !== undefined),
    });
    expect(result.status).toBe(200);
    expect(result.contentType).toMatch(/^text\/event-stream/);
    const events = result.messages.filter((m) => m.data !== undefined);
    expect(events.length).toBeGreaterThan(0);
    for (const message of events) {
      const body = JSON.parse(message.data ?? 'null');
      expect(schema.parse(body)).toEqual(body);
    }
    exercised.add(`get ${operationFor('get', url)?.path}`);
  }

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    stack = await startStack();
    admin = stack.adminKey;
    const project = await stack.createProject();
    key = project.key;
    projectId = project.id;
    const res = await stack.api.get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
    await new Promise((resolve) => hooks?.close(resolve));
  });

  it('is the document generated from the zod schemas', () => {
    expect(doc).toEqual(buildOpenApiDocument(doc.servers[0].url));
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every route Express mounts, and only those', async () => {
    const settings = loadSettings(stack.env as Record<string, string>);
    const deps = await buildApiDeps(settings, pino({ level: 'silent' }));
    let mounted: Route[];
    try {
      mounted = mountedRoutes(createApp(deps));
    } finally {
      await deps.close();
    }
    // the walk sees the routers mounted in app.ts, nested ones included
    expect(mounted).toEqual(expect.arrayContaining([
      { method: 'post', path: '/v1/jobs' },
      { method: 'delete', path: '/v1/webhook-endpoints/{id}' },
      { method: 'post', path: '/admin/v1/jobs/bulk-cancel' },
      { method: 'delete', path: '/admin/session' },
      { method: 'get', path: '/healthz' },
      { method: 'get', path: '/admin' },
    ]));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    const routes = mounted.map((r) => `${r.method} ${r.path}`);
    expect({ undocumented: routes.filter((r) => !documented.includes(r)).sort() }).toEqual({ undocumented: [] });
    expect({ notMounted: documented.filter((d) => !routes.includes(d)).sort() }).toEqual({ notMounted: [] });
  });

  it('types a job request as a oneOf discriminated on type, each branch with its type’s input schema', () => {
    const schemas = doc.components.schemas;
    const jobRequest = schemas.JobRequest;
    expect(jobRequest.oneOf).toHaveLength(JOB_TYPES.length);
    expect(jobRequest.discriminator.propertyName).toBe('type');
    for (const spec of JOB_TYPES) {
      const name = typeName(spec.type);
      const target = `#/components/schemas/${name}JobRequest`;
      expect(jobRequest.discriminator.mapping[spec.type]).toBe(target);
      expect(jobRequest.oneOf).toContainEqual({ $ref: target });
      const branch = schemas[`${name}JobRequest`];
      expect(branch.properties.type).toEqual({ type: 'string', const: spec.type });
      expect(branch.properties.input).toEqual({ $ref: `#/components/schemas/${name}Input` });
      expect(branch.required).toEqual(expect.arrayContaining(['type', 'input']));
      // the type's own zod schema, word for word (its defaults said in words, MediaSource by reference)
      const own = JSON.stringify(requestSchema(spec.input));
      const documentedInput = schemas[`${name}Input`];
      expect(Object.keys(documentedInput.properties).sort()).toEqual(Object.keys(JSON.parse(own).properties).sort());
      expect(documentedInput.additionalProperties).toBe(false);
    }
    expect(schemas.ImageGenerateInput.required).toEqual(['prompt']);
    expect(schemas.ImageGenerateInput.properties.model.description).toContain('Default: "gpt-image-1"');
    expect(schemas.MjDescribeInput.properties.image).toEqual({ $ref: '#/components/schemas/MediaSource' });
    // submissions, single, bulk and admin, all carry the typed requests
    const body = (path: string, method = 'post') => doc.paths[path][method].requestBody.content['application/json'].schema;
    expect(body('/v1/jobs')).toEqual({ $ref: '#/components/schemas/JobRequest' });
    expect(body('/v1/jobs/bulk')).toEqual({ $ref: '#/components/schemas/BulkJobRequest' });
    expect(schemas.BulkJobRequest.properties.jobs).toMatchObject({ type: 'array', maxItems: 1000, items: { $ref: '#/components/schemas/JobRequest' } });
    expect(body('/admin/v1/jobs')).toEqual({ $ref: '#/components/schemas/AdminJobRequest' });
    expect(schemas.AdminJobRequest.discriminator.propertyName).toBe('type');
    expect(schemas.AdminImageGenerateJobRequest.required).toEqual(expect.arrayContaining(['project_id', 'type', 'input']));
  });

  it('describes every JSON answer by a named component, errors included, and requests by their own schemas', () => {
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          const json = response.content?.['application/json']?.schema;
          if (json && path !== '/openapi.json') expect({ at: `${method} ${path} ${status}`, json }).toEqual({ at: `${method} ${path} ${status}`, json: { $ref: expect.stringMatching(/^#\/components\/schemas\/\w+$/) } });
        }
        // the compatible routes (docs/compat.md) refuse in their own APIs' shapes
        const compatError = path.startsWith('/mj/') ? 'MjError' : path.startsWith('/v1/videos') ? 'OpenAiError' : null;
        if (compatError) {
          expect(op.responses['401'].content['application/json'].schema).toEqual({ $ref: `#/components/schemas/${compatError}` });
        } else if (!['/healthz', '/readyz', '/openapi.json', '/docs', '/docs/{asset}', '/admin', '/admin/session', '/metrics'].includes(path)) {
          expect(op.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
    }
    expect(doc.paths['/v1/webhook-endpoints'].post.requestBody.content['application/json'].schema).toEqual(requestSchema(CreateEndpointSchema));
    const query = doc.paths['/v1/webhook-deliveries'].get.parameters.filter((p: any) => p.in === 'query');
    expect(query.map((p: any) => p.name).sort()).toEqual(Object.keys(ListDeliveriesQuerySchema.shape).sort());
    for (const [path, lastEventId] of [['/v1/jobs/{id}/events', LastEventIdSchema], ['/v1/events', ProjectLastEventIdSchema]] as const) {
      const op = doc.paths[path].get;
      expect(Object.keys(op.responses['200'].content)).toContain('text/event-stream');
      expect(op.parameters.find((p: any) => p.in === 'header' && p.name === 'Last-Event-ID')).toMatchObject({ required: false, schema: requestSchema(lastEventId) });
    }
    expect(doc.components.schemas.WebhookEndpoint.required).not.toContain('secret');
    expect(doc.components.schemas.Event.properties.data).toEqual({ $ref: '#/components/schemas/Job' });
    expect(doc.paths['/admin/v1/jobs/count'].get.security).toEqual([{ bearer: [] }, { adminSession: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('serves /docs from the installed swagger-ui-dist, under a policy of this origin only', async () => {
    const page = await call('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-inline|unsafe-eval/);
    // every script and style the page loads is one of ours, and is served
    const loaded = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(loaded.length).toBeGreaterThan(3);
    for (const url of loaded) {
      expect(url).toMatch(/^\/docs\//);
      const asset = await call('GET', url);
      expect(asset.status).toBe(200);
      expect(asset.text.length).toBeGreaterThan(url.endsWith('init.js') ? 50 : 500);
    }
    expect((await call('GET', '/docs/swagger-ui-bundle.js')).text).toContain('SwaggerUIBundle');
    expect((await call('GET', '/docs/init.js')).text).toContain("url: '/openapi.json'");
    expect(new Set(DOCS_ASSETS).size).toBe(DOCS_ASSETS.length);
    // nothing else of the package (its petstore initializer, its index.html) is served
    expect((await call('GET', '/docs/swagger-initializer.js')).status).toBe(404);
    expect((await call('GET', '/docs/index.html')).status).toBe(404);
    check('GET', '/openapi.json', await stack.api.get('/openapi.json'));
  });

  it('refuses an answer with a field its schema does not name, or a field of the wrong type', () => {
    const answer = (body: unknown): HttpAnswer => ({ status: 200, headers: new Headers({ 'content-type': 'application/json' }), body, text: JSON.stringify(body) });
    const documented = { status: 'ok' };
    expect(() => check('GET', '/healthz', answer(documented))).not.toThrow();
    expect(() => check('GET', '/healthz', answer({ ...documented, uptime: 5 }))).toThrow();
    expect(() => check('GET', '/healthz', answer({ status: 'fine' }))).toThrow(/healthz/);
  });

  it('answers every documented operation as documented (real answers, checked against the zod schemas)', async () => {
    // service routes
    await call('GET', '/healthz');
    await call('GET', '/readyz');
    expect((await call('GET', '/metrics', { key: admin })).status).toBe(200);
    expect((await call('GET', '/metrics', { key })).status).toBe(403);
    expect((await call('GET', '/v1/jobs', {})).status).toBe(401);

    // webhooks first, so the jobs below are delivered
    await call('GET', '/v1/webhook-secret', { key });
    await call('POST', '/v1/webhook-secret/rotate', { key });
    const endpoint = await call('POST', '/v1/webhook-endpoints', { key, body: { url: hookUrl, description: 'openapi test' } });
    expect(endpoint.status).toBe(201);
    const spare = await call('POST', '/v1/webhook-endpoints', { key, body: { url: `${hookUrl}/spare`, event_types: ['job.failed'] } });
    await call('POST', `/v1/webhook-endpoints/${spare.body.id}/rotate-secret`, { key });
    await call('GET', '/v1/webhook-endpoints', { key });
    expect((await call('DELETE', `/v1/webhook-endpoints/${spare.body.id}`, { key })).status).toBe(200);
    expect((await call('POST', '/v1/webhook-endpoints', { key, body: { url: 'ftp://x' } })).status).toBe(400);

    // jobs of several types, run on the simulator
    const submitted: Record<string, any> = {};
    for (const type of ['image.generate', 'image.gemini', 'video.generate', 'mj.imagine', 'audio.speech', 'embedding.batch']) {
      const res = await call('POST', '/v1/jobs', { key, body: { type, input: EXAMPLE_INPUTS[type], metadata: { suite: 'openapi' } }, headers: { 'idempotency-key': `openapi-${type}` } });
      expect(res.status).toBe(202);
      submitted[type] = res.body;
    }
    const replay = await call('POST', '/v1/jobs', { key, body: { type: 'image.generate', input: EXAMPLE_INPUTS['image.generate'], metadata: { suite: 'openapi' } }, headers: { 'idempotency-key': 'openapi-image.generate' } });
    expect(replay.status).toBe(200);
    expect((await call('POST', '/v1/jobs', { key, body: { type: 'image.generate', input: { prompt: 7 } } })).status).toBe(400);
    const finals: Record<string, any> = {};
    for (const [type, job] of Object.entries(submitted)) {
      let res = await call('GET', `/v1/jobs/${job.id}?wait=30`, { key });
      for (let i = 0; i < 4 && !['succeeded', 'failed', 'canceled', 'expired'].includes(res.body.status); i += 1) res = await call('GET', `/v1/jobs/${job.id}?wait=30`, { key });
      finals[type] = res.body;
    }
    expect(finals['image.generate'].status).toBe('succeeded');
    expect(finals['audio.speech'].status).toBe('succeeded');
    const image = finals['image.generate'];
    const speech = finals['audio.speech'];
    // jobs that take an earlier job's artifact
    const edit = await call('POST', '/v1/jobs', { key, body: { type: 'image.edit', input: { prompt: 'a scarf', images: [{ artifact_id: image.artifacts[0].id }] } } });
    const transcribe = await call('POST', '/v1/jobs', { key, body: { type: 'audio.transcribe', input: { audio: { artifact_id: speech.artifacts[0].id } } } });
    await stack.waitFinal(key, edit.body.id);
    check('GET', `/v1/jobs/${transcribe.body.id}`, await stack.api.get(`/v1/jobs/${transcribe.body.id}?wait=30`, { key }));
    const bulk = await call('POST', '/v1/jobs/bulk', { key, body: { jobs: [{ type: 'mj.describe', input: { image: { artifact_id: image.artifacts[0].id } } }, { type: 'nope', input: {} }] } });
    expect(bulk.status).toBe(202);
    expect(bulk.body.data[1].error.code).toBe('invalid_request');
    await call('GET', '/v1/jobs?limit=5&status=succeeded', { key });
    await call('GET', `/v1/jobs/${image.id}`, { key });
    expect((await call('GET', '/v1/jobs/job_00000000000000000000000000', { key })).status).toBe(404);

    // cancel and retry: a job held behind a canceled one
    const held = await call('POST', '/v1/jobs', { key, body: { type: 'video.generate', input: EXAMPLE_INPUTS['video.generate'] } });
    const canceled = await call('POST', `/v1/jobs/${held.body.id}/cancel`, { key });
    expect([200, 409]).toContain(canceled.status);
    expect((await call('POST', `/v1/jobs/${image.id}/cancel`, { key })).status).toBe(409);
    const toRetry = canceled.status === 200 ? held.body.id : image.id;
    const retried = await call('POST', `/v1/jobs/${toRetry}/retry`, { key });
    expect([202, 409]).toContain(retried.status);

    // the event log as JSON and as a stream
    const page = await call('GET', `/v1/jobs/${image.id}/events?limit=2`, { key, headers: { accept: 'application/json' } });
    expect(page.body.next_cursor).not.toBeNull();
    await checkStream(`/v1/jobs/${image.id}/events`, key, '0', PublicEventSchema);
    const firstEvent = page.body.data[0].id;
    await checkStream('/v1/events', key, firstEvent, PublicEventSchema);

    // artifacts: the signed link and the key
    const artifact = image.artifacts[0];
    const signed = new URL(artifact.url);
    check('GET', `${signed.pathname}${signed.search}`, await stack.api.get(`${signed.pathname}${signed.search}`));
    const ranged = check('GET', `/v1/artifacts/${artifact.id}/content`, await stack.api.get(`/v1/artifacts/${artifact.id}/content`, { key, headers: { range: 'bytes=0-9' } }));
    expect(ranged.status).toBe(206);

    // files
    const upload = await call('POST', '/v1/files', { key, rawBody: uploadForm([['purpose', 'image'], ['file', makePng(8), 'fox.png', 'image/png']]) });
    expect(upload.status).toBe(201);
    await call('GET', `/v1/files/${upload.body.id}`, { key });
    await call('DELETE', `/v1/files/${upload.body.id}`, { key });

    // deliveries of the jobs above to the endpoint
    const deliveries = await eventually(
      () => stack.api.get(`/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}`, { key }),
      (res) => res.body.data?.some((d: any) => d.attempts.length > 0),
      30_000,
      'a delivery attempt',
    );
    check('GET', '/v1/webhook-deliveries', deliveries);
    const delivery = deliveries.body.data[0];
    await call('GET', `/v1/webhook-deliveries/${delivery.id}`, { key });
    await call('POST', `/v1/webhook-deliveries/${delivery.id}/redeliver`, { key });

    // administration
    const project = await call('POST', '/admin/v1/projects', { key: admin, body: { name: `openapi-${Date.now()}`, limits: { requests_per_minute: 600 } } });
    expect(project.status).toBe(201);
    await call('PATCH', `/admin/v1/projects/${project.body.id}`, { key: admin, body: { limits: { max_running_jobs: 3, requests_per_minute: null } } });
    await call('GET', '/admin/v1/projects', { key: admin });
    expect((await call('GET', '/admin/v1/projects', { key })).status).toBe(403);
    const projectKey = await call('POST', `/admin/v1/projects/${project.body.id}/api-keys`, { key: admin, body: { name: 'ci' } });
    await call('GET', `/admin/v1/projects/${project.body.id}/api-keys`, { key: admin });
    expect((await call('DELETE', `/admin/v1/api-keys/${projectKey.body.id}`, { key: admin })).status).toBe(204);
    await call('POST', '/admin/v1/admin-keys', { key: admin, body: { name: 'second operator' } });
    await call('GET', '/admin/v1/admin-keys', { key: admin });

    await call('GET', `/admin/v1/jobs?project_id=${projectId}&status=succeeded,failed&limit=3`, { key: admin });
    await call('GET', `/admin/v1/jobs/count?project_id=${projectId}`, { key: admin });
    const adminJob = await call('POST', '/admin/v1/jobs', { key: admin, body: { project_id: projectId, type: 'image.generate', input: EXAMPLE_INPUTS['image.generate'] } });
    expect(adminJob.status).toBe(202);
    await call('GET', `/admin/v1/jobs/${image.id}`, { key: admin });
    await call('GET', `/admin/v1/jobs/${image.id}/events`, { key: admin });
    await call('GET', `/admin/v1/jobs/${image.id}/attempts`, { key: admin });
    await call('GET', `/admin/v1/jobs/${finals['mj.imagine'].id}/children`, { key: admin });
    const adminCancel = await call('POST', `/admin/v1/jobs/${adminJob.body.id}/cancel`, { key: admin });
    expect([200, 409]).toContain(adminCancel.status);
    await stack.waitFinal(key, adminJob.body.id);
    const adminRetry = await call('POST', `/admin/v1/jobs/${adminJob.body.id}/retry`, { key: admin });
    expect([202, 409]).toContain(adminRetry.status);
    const bulkCancel = await call('POST', '/admin/v1/jobs/bulk-cancel', { key: admin, body: { ids: [image.id] } });
    expect(bulkCancel.body.status).toBe('done');
    const bulkRetry = await call('POST', '/admin/v1/jobs/bulk-retry', { key: admin, body: { filter: { project_id: project.body.id, status: ['failed'] } } });
    await call('GET', `/admin/v1/bulk-actions/${bulkRetry.body.id}`, { key: admin });
    check('GET', `/admin/v1/artifacts/${artifact.id}/content`, await stack.api.get(`/admin/v1/artifacts/${artifact.id}/content`, { key: admin }));
    await checkStream('/admin/v1/events', admin, firstEvent, AdminEventSchema);
    await call('GET', '/admin/v1/stats', { key: admin });
    await call('GET', '/admin/v1/upstream', { key: admin });
    await call('GET', '/admin/v1/usage', { key: admin });
    await call('GET', `/admin/v1/usage/jobs/${image.id}`, { key: admin });
    await call('GET', '/v1/usage?from=2026-01-01T00:00:00Z', { key });
    await call('GET', `/v1/usage/jobs/${image.id}`, { key });
    await call('GET', `/admin/v1/webhook-endpoints?project_id=${projectId}`, { key: admin });
    await call('POST', `/admin/v1/webhook-endpoints/${endpoint.body.id}/enable`, { key: admin });
    await call('GET', '/admin/v1/webhook-deliveries?event_type=job.succeeded', { key: admin });
    await call('POST', `/admin/v1/webhook-deliveries/${delivery.id}/redeliver`, { key: admin });

    // the dashboard, its session and bull-board
    const signIn = await call('POST', '/admin/session', { body: { key: admin } });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^gq_admin_session=/);
    await call('GET', '/admin/session', { headers: { cookie } });
    expect((await call('DELETE', '/admin/session', { headers: { cookie } })).status).toBe(204);
    expect((await call('POST', '/admin/session', { body: { key: 'gqa_wrong' } })).status).toBe(401);
    expect([200, 503]).toContain((await call('GET', '/admin')).status);
    expect((await call('GET', BULL_BOARD_PATH, { key: admin })).status).toBe(200);

    // the compatible routes (docs/compat.md); their own flows are in compat-*.e2e.test.ts
    const mj = { 'mj-api-secret': key, 'content-type': 'application/json' };
    const png = `data:image/png;base64,${makePng(8).toString('base64')}`;
    const mjImagine = finals['mj.imagine'];
    await call('POST', '/mj/submit/imagine', { rawBody: JSON.stringify({ prompt: 'a castle at dusk', base64Array: [], notifyHook: '', state: '' }), headers: mj });
    await call('GET', `/mj/task/${mjImagine.id}/fetch`, { headers: mj });
    await call('POST', '/mj/task/list-by-condition', { rawBody: JSON.stringify({ ids: [mjImagine.id] }), headers: mj });
    await call('GET', `/mj/task/${mjImagine.id}/image-seed`, { headers: mj });
    const mjButton = mjImagine.output?.buttons?.[0]?.custom_id ?? 'MJ::JOB::upsample::1::none';
    await call('POST', '/mj/submit/action', { rawBody: JSON.stringify({ taskId: mjImagine.id, customId: mjButton }), headers: mj });
    await call('POST', '/mj/submit/blend', { rawBody: JSON.stringify({ base64Array: [png, png], dimensions: 'SQUARE' }), headers: mj });
    await call('POST', '/mj/submit/describe', { rawBody: JSON.stringify({ base64: png }), headers: mj });
    expect((await call('POST', '/mj/submit/modal', { rawBody: JSON.stringify({ taskId: mjImagine.id, prompt: 'more' }), headers: mj })).status).toBe(400);
    expect((await call('POST', '/mj/submit/imagine', { body: { prompt: 'x' } })).status).toBe(401);
    const video = await call('POST', '/v1/videos', { key, body: { model: 'sora-2', prompt: 'a kite over the sea', seconds: '4' } });
    expect(video.status).toBe(200);
    await call('GET', `/v1/videos/${finals['video.generate'].id}`, { key });
    expect((await call('POST', `/v1/videos/${finals['video.generate'].id}/remix`, { key, body: { prompt: 'the kite at night' } })).status).toBe(200);
    check('GET', `/v1/videos/${finals['video.generate'].id}/content`, await stack.api.get(`/v1/videos/${finals['video.generate'].id}/content`, { key }));
    expect((await call('POST', '/v1/videos', { key, body: { model: 'sora-2' } })).status).toBe(400);

    const missed = OPERATIONS.map((op) => `${op.method} ${op.path}`).filter((op) => !exercised.has(op));
    expect({ missed }).toEqual({ missed: [] });
  }, 240_000);
});
