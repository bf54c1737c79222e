import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import type { TestStack } from '@genqueue/testing';
import type { ApiDeps } from '../src/deps';
import { eventsRoutes, ProjectLastEventIdSchema } from '../src/routes/events.routes';
import { adminEventsRoutes } from '../src/routes/admin-events.routes';
import { adminJobsRoutes } from '../src/routes/admin-jobs.routes';
import { adminSessionRoutes } from '../src/routes/admin-session.routes';
import { adminWebhooksRoutes } from '../src/routes/admin-webhooks.routes';
import { adminRoutes } from '../src/routes/admin.routes';
import { LastEventIdSchema } from '../src/routes/schemas';
import { CreateEndpointSchema, ListDeliveriesQuerySchema, webhooksRoutes } from '../src/routes/webhooks.routes';
import { startStack, stopStack } from './helpers';

type Route = { method: string; path: string };

/** The routes a router registers, as OpenAPI paths below `mount` (`:id` becomes `{id}`). */
function routesOf(router: Router, mount: string): Route[] {
  const out: Route[] = [];
  for (const layer of router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>) {
    if (!layer.route) continue;
    const path = mount + layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) out.push({ method, path });
  }
  return out;
}

/** The JSON Schema of what a request may send, as openapi.ts writes it. */
const inputSchema = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

describe('GET /openapi.json', () => {
  let stack: TestStack;
  let doc: any;

  beforeAll(async () => {
    stack = await startStack({ withoutWorker: true });
    const res = await stack.api.get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
  });

  // app.ts mounts both routers at /v1. They are only listed here: no handler runs, so no deps.
  const noDeps = {} as ApiDeps;
  const guard: RequestHandler[] = [(_req, _res, next) => next()];
  const webhookRoutes = routesOf(webhooksRoutes(noDeps, guard), '/v1');
  const eventRoutes = routesOf(eventsRoutes(noDeps, guard), '/v1');

  it('lists every route of the webhooks and events routers with its method', () => {
    // the listing itself works: it sees routes of both routers
    expect(webhookRoutes).toEqual(expect.arrayContaining([{ method: 'delete', path: '/v1/webhook-endpoints/{id}' }]));
    expect(eventRoutes).toEqual(expect.arrayContaining([{ method: 'get', path: '/v1/events' }]));
    const missing = [...webhookRoutes, ...eventRoutes].filter(({ method, path }) => !doc.paths[path]?.[method]);
    expect(missing).toEqual([]);
  });

  it('lists every admin route (app.ts mounts these routers at /admin/v1, the session at /admin/session)', () => {
    const withSettings = { settings: { publicBaseUrl: 'http://127.0.0.1' } } as ApiDeps;
    const admin = [adminRoutes, adminJobsRoutes, adminWebhooksRoutes, adminEventsRoutes].flatMap((routes) => routesOf(routes(noDeps), '/admin/v1'));
    const session = routesOf(adminSessionRoutes(withSettings, guard[0]!), '/admin/session').map((r) => ({ ...r, path: r.path.replace(/\/$/, '') }));
    expect(admin).toEqual(expect.arrayContaining([{ method: 'post', path: '/admin/v1/jobs/bulk-cancel' }, { method: 'get', path: '/admin/v1/events' }]));
    expect(session.map((r) => r.method).sort()).toEqual(['delete', 'get', 'post']);
    const missing = [...admin, ...session].filter(({ method, path }) => !doc.paths[path]?.[method]);
    expect(missing).toEqual([]);
    // either credential works on the admin API
    expect(doc.paths['/admin/v1/jobs/count'].get.security).toEqual([{ bearer: [] }, { adminSession: [] }]);
    expect(doc.components.securitySchemes.adminSession).toEqual({ type: 'apiKey', in: 'cookie', name: 'gq_admin_session' });
    // the HTML pages served beside the API
    expect(Object.keys(doc.paths['/admin'].get.responses['200'].content)).toEqual(['text/html']);
    expect(Object.keys(doc.paths['/admin/queues'].get.responses['200'].content)).toEqual(['text/html']);
  });

  it('describes webhook requests with the schemas that validate them', () => {
    expect(doc.paths['/v1/webhook-endpoints'].post.requestBody.content['application/json'].schema).toEqual(inputSchema(CreateEndpointSchema));
    const query = doc.paths['/v1/webhook-deliveries'].get.parameters.filter((p: any) => p.in === 'query');
    expect(query.map((p: any) => p.name).sort()).toEqual(Object.keys(ListDeliveriesQuerySchema.shape).sort());
    expect(query.find((p: any) => p.name === 'status').schema.enum).toEqual(['pending', 'succeeded', 'failed']);
    expect(doc.paths['/v1/webhook-endpoints'].post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/WebhookEndpoint',
    });
    expect(doc.components.schemas.WebhookEndpoint.required).toEqual(expect.arrayContaining(['id', 'url', 'secret_prefix', 'event_types']));
    // the secret itself is only in the answers that make one
    expect(doc.components.schemas.WebhookEndpoint.required).not.toContain('secret');
    expect(doc.components.schemas.WebhookEndpoint.properties.secret).toBeDefined();
    expect(doc.paths['/v1/webhook-deliveries/{id}/redeliver'].post.responses['202'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/WebhookDelivery',
    });
    expect(doc.components.schemas.WebhookDelivery.properties.attempts.items.required).toEqual(
      expect.arrayContaining(['at', 'status_code', 'duration_ms', 'error']),
    );
  });

  it('describes both event streams as text/event-stream resumable with Last-Event-ID', () => {
    const streams: Array<[string, z.ZodType]> = [
      ['/v1/jobs/{id}/events', LastEventIdSchema],
      ['/v1/events', ProjectLastEventIdSchema],
    ];
    for (const [path, lastEventId] of streams) {
      const op = doc.paths[path].get;
      expect(Object.keys(op.responses['200'].content)).toContain('text/event-stream');
      const header = op.parameters.find((p: any) => p.in === 'header' && p.name === 'Last-Event-ID');
      expect(header).toMatchObject({ required: false, schema: inputSchema(lastEventId) });
    }
    // the per-job log answers JSON too, with Accept: application/json
    expect(doc.paths['/v1/jobs/{id}/events'].get.responses['200'].content['application/json'].schema.properties.data.items).toEqual({
      $ref: '#/components/schemas/Event',
    });
    expect(doc.components.schemas.Event.properties.type.enum).toEqual(expect.arrayContaining(['job.created', 'job.succeeded', 'job.retried']));
  });
});
