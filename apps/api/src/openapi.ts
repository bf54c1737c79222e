import { z } from 'zod';
import { JOB_EVENT_TYPES, JOB_TYPES, JobRequestSchema, MediaSourceSchema } from '@genqueue/core';
import { WEBHOOK_EVENT_TYPES } from '@genqueue/webhooks';
import { ProjectLastEventIdSchema } from './routes/events.routes';
import {
  BulkRequestSchema,
  CreateApiKeySchema,
  CreateProjectSchema,
  LastEventIdSchema,
  AdminListJobsQuerySchema,
  ListJobsQuerySchema,
  UpdateProjectSchema,
  WaitQuerySchema,
} from './routes/schemas';
import { CreateEndpointSchema, ListDeliveriesQuerySchema } from './routes/webhooks.routes';
import { AdminSubmitEnvelopeSchema, BulkActionRequestSchema } from './routes/admin-jobs.routes';
import { SignInSchema } from './routes/admin-session.routes';
import { AdminListDeliveriesQuerySchema, AdminListEndpointsQuerySchema } from './routes/admin-webhooks.routes';

const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});

const JobSchema = z.object({
  id: z.string(),
  object: z.literal('job'),
  type: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired']),
  progress: z.number(),
  input: z.record(z.string(), z.unknown()),
  output: z.unknown().nullable(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).nullable(),
  artifacts: z.array(
    z.object({ id: z.string(), kind: z.string(), content_type: z.string(), bytes: z.number(), sha256: z.string(), url: z.string() }),
  ),
  metadata: z.record(z.string(), z.string()),
  webhook_url: z.string().nullable(),
  attempts: z.number(),
  upstream: z.object({ task_id: z.string().nullable(), status: z.string().nullable() }),
  parent_id: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

/** An event of the log (api.md): `data` is the job as it was after the change. */
const EventSchema = z.object({
  id: z.string(),
  object: z.literal('event'),
  type: z.enum(JOB_EVENT_TYPES),
  job_id: z.string(),
  seq: z.number(),
  created_at: z.string(),
  data: JobSchema,
});

/** What `endpointView` answers. */
const WebhookEndpointSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  secret: z.string().optional().describe('only in the answers that make a secret: creation and rotate-secret'),
  secret_prefix: z.string(),
  status: z.enum(['enabled', 'disabled']),
  disabled_at: z.string().nullable(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
});

/** What `deliveryView` answers: a delivery with its attempts, oldest first. */
const WebhookDeliverySchema = z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  webhook_id: z.string(),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  event_id: z.string(),
  job_id: z.string(),
  endpoint_id: z.string().nullable().describe('null for the job’s own webhook_url'),
  url: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  attempts: z.array(
    z.object({
      at: z.string(),
      status_code: z.number().nullable(),
      duration_ms: z.number(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
    }),
  ),
});

const AdminSessionSchema = z.object({
  object: z.literal('admin_session'),
  expires_at: z.string(),
  csrf_token: z.string().describe('send it as X-CSRF-Token on every request other than GET/HEAD made with the cookie'),
});

const BulkActionSchema = z.object({
  object: z.literal('bulk_action'),
  id: z.string(),
  action: z.enum(['cancel', 'retry']),
  status: z.enum(['running', 'done', 'interrupted']),
  matched: z.number(),
  processed: z.number(),
  changed: z.number(),
  skipped: z.number(),
});

const JobAttemptSchema = z.object({
  attempt: z.number(),
  outcome: z.enum(['retried', 'rate_limited', 'failed']),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
  at: z.string(),
});

const ApiKeyListedSchema = z.object({
  id: z.string(),
  object: z.literal('api_key'),
  name: z.string().nullable(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

const WebhookSecretSchema = z.object({ object: z.literal('webhook_secret'), secret: z.string() });

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of what a request may send. */
const schemaOf = (schema: z.ZodType): Record<string, unknown> => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: unknown) => ({ content: { 'application/json': { schema } } });

function queryParameters(schema: z.ZodObject): unknown[] {
  const json = schemaOf(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: (json.required ?? []).includes(name),
    schema: s,
  }));
}

const ID_PARAM = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ERRORS = Object.fromEntries(
  [
    [400, 'invalid_request'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [429, 'rate_limited'],
    [503, 'unavailable'],
  ].map(([status, code]) => [String(status), { description: String(code), ...jsonContent(ref('Error')) }]),
);

/** The `Last-Event-ID` request header a reconnecting SSE client sends, checked by `schema`. */
const lastEventIdHeader = (schema: z.ZodType, description: string) => ({
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  description,
  schema: schemaOf(schema),
});

const SSE_FRAMES = {
  type: 'string',
  description: 'Frames `id: <id>`, `event: <type>`, `data: <the Event JSON>`, and a `: heartbeat` comment every SSE_HEARTBEAT_MS (15 s)',
};

type Op = {
  summary: string;
  body?: unknown;
  query?: z.ZodObject;
  pathId?: boolean;
  headers?: unknown[];
  ok?: [number, unknown];
  /** the success answer's media types, when it is not only JSON */
  okContent?: Record<string, { schema: unknown }>;
};

function operation(op: Op): Record<string, unknown> {
  const parameters = [...(op.pathId ? [ID_PARAM] : []), ...(op.query ? queryParameters(op.query) : []), ...(op.headers ?? [])];
  const [okStatus, okSchema] = op.ok ?? [200, ref('Job')];
  const okContent = op.okContent ? { content: op.okContent } : jsonContent(okSchema);
  return {
    summary: op.summary,
    security: [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, ...jsonContent(op.body) } } : {}),
    responses: { [String(okStatus)]: { description: 'OK', ...okContent }, ...ERRORS },
  };
}

/** Every /admin/v1 route takes the admin key or the dashboard's session cookie. */
function withAdminSessions(paths: Record<string, Record<string, Record<string, unknown>>>): typeof paths {
  for (const [path, ops] of Object.entries(paths)) {
    if (!path.startsWith('/admin/v1/')) continue;
    for (const op of Object.values(ops)) op['security'] = [{ bearer: [] }, { adminSession: [] }];
  }
  return paths;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(serverUrl: string): unknown {
  const inputs = Object.fromEntries(JOB_TYPES.map((spec) => [`Input_${spec.type.replace('.', '_')}`, schemaOf(spec.input)]));
  const listOf = (item: string, paged: boolean) => ({
    type: 'object',
    properties: {
      object: { const: 'list' },
      data: { type: 'array', items: ref(item) },
      ...(paged ? { next_cursor: { type: ['string', 'null'] } } : {}),
    },
  });
  const list = { type: 'object', properties: { data: { type: 'array', items: ref('Job') }, next_cursor: { type: ['string', 'null'] } } };
  const countSchema = { type: 'object', properties: { object: { const: 'count' }, count: { type: 'integer' } } };
  return {
    openapi: '3.1.0',
    info: { title: 'genqueue', version: '1.0.0', description: 'Durable jobs for an AI aggregator gateway' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        // the dashboard's alternative to the admin key on /admin/*; mutating requests add X-CSRF-Token
        adminSession: { type: 'apiKey', in: 'cookie', name: 'gq_admin_session' },
      },
      schemas: {
        Error: schemaOf(ErrorSchema),
        Job: schemaOf(JobSchema),
        Event: schemaOf(EventSchema),
        WebhookEndpoint: schemaOf(WebhookEndpointSchema),
        WebhookDelivery: schemaOf(WebhookDeliverySchema),
        WebhookSecret: schemaOf(WebhookSecretSchema),
        AdminSession: schemaOf(AdminSessionSchema),
        BulkAction: schemaOf(BulkActionSchema),
        JobAttempt: schemaOf(JobAttemptSchema),
        ApiKeyListed: schemaOf(ApiKeyListedSchema),
        MediaSource: schemaOf(MediaSourceSchema),
        JobRequest: {
          ...schemaOf(JobRequestSchema),
          description: `input is checked against the schema of its type: ${JOB_TYPES.map((s) => s.type).join(', ')}`,
        },
        ...inputs,
      },
    },
    paths: withAdminSessions({
      '/v1/jobs': {
        post: operation({ summary: 'Submit a job (Idempotency-Key header supported)', body: ref('JobRequest'), ok: [202, ref('Job')] }),
        get: operation({ summary: 'List jobs, newest first; metadata[KEY]=VALUE filters too', query: ListJobsQuerySchema.omit({ project_id: true, q: true }), ok: [200, list] }),
      },
      '/v1/jobs/bulk': { post: operation({ summary: 'Submit up to 1000 jobs', body: schemaOf(BulkRequestSchema), ok: [202, list] }) },
      '/v1/jobs/{id}': { get: operation({ summary: 'A job; ?wait=N holds until final', pathId: true, query: WaitQuerySchema }) },
      '/v1/jobs/{id}/cancel': { post: operation({ summary: 'Cancel a queued or running job', pathId: true }) },
      '/v1/jobs/{id}/retry': { post: operation({ summary: 'Run a failed or canceled job again', pathId: true, ok: [202, ref('Job')] }) },
      '/v1/jobs/{id}/events': {
        get: operation({
          summary: 'The job event log: text/event-stream (resumes after Last-Event-ID, ends after the final event), or {data: [event]} with Accept: application/json',
          pathId: true,
          headers: [lastEventIdHeader(LastEventIdSchema, 'SSE only: the seq of the last event seen; the stream resumes after it')],
          okContent: { 'text/event-stream': { schema: SSE_FRAMES }, 'application/json': { schema: listOf('Event', false) } },
        }),
      },
      '/v1/events': {
        get: operation({
          summary: 'Every event of the project’s jobs, in event-id order, as text/event-stream (from now, or after Last-Event-ID); the SSE id is the event id',
          headers: [lastEventIdHeader(ProjectLastEventIdSchema, 'the id (evt_…) of the last event seen; the stream resumes after it')],
          okContent: { 'text/event-stream': { schema: SSE_FRAMES } },
        }),
      },
      '/v1/webhook-secret': {
        get: operation({ summary: 'The project’s secret for per-job webhook URLs (made on first use)', ok: [200, ref('WebhookSecret')] }),
      },
      '/v1/webhook-secret/rotate': {
        post: operation({ summary: 'Replace the project’s webhook secret', ok: [200, ref('WebhookSecret')] }),
      },
      '/v1/webhook-endpoints': {
        post: operation({ summary: 'Register a webhook endpoint (answers it with its own secret)', body: schemaOf(CreateEndpointSchema), ok: [201, ref('WebhookEndpoint')] }),
        get: operation({ summary: 'The project’s webhook endpoints', ok: [200, listOf('WebhookEndpoint', false)] }),
      },
      '/v1/webhook-endpoints/{id}': {
        delete: operation({
          summary: 'Remove a webhook endpoint',
          pathId: true,
          ok: [200, { type: 'object', properties: { id: { type: 'string' }, object: { const: 'webhook_endpoint' }, deleted: { const: true } } }],
        }),
      },
      '/v1/webhook-endpoints/{id}/rotate-secret': {
        post: operation({
          summary: 'A new signing secret for the endpoint, shown this once; the previous one signs beside it for 24 h',
          pathId: true,
          ok: [200, ref('WebhookEndpoint')],
        }),
      },
      '/v1/webhook-deliveries': {
        get: operation({ summary: 'Webhook deliveries with their attempts, newest first', query: ListDeliveriesQuerySchema, ok: [200, listOf('WebhookDelivery', true)] }),
      },
      '/v1/webhook-deliveries/{id}': {
        get: operation({ summary: 'One webhook delivery with every attempt', pathId: true, ok: [200, ref('WebhookDelivery')] }),
      },
      '/v1/webhook-deliveries/{id}/redeliver': {
        post: operation({ summary: 'Send a delivery again now', pathId: true, ok: [202, ref('WebhookDelivery')] }),
      },
      '/v1/artifacts/{id}/content': { get: operation({ summary: 'Artifact bytes (Range supported; signed links need no key)', pathId: true, ok: [200, {}] }) },
      '/v1/files': { post: operation({ summary: 'Upload a file (multipart: file, purpose)', ok: [201, { type: 'object' }] }) },
      '/v1/files/{id}': {
        get: operation({ summary: 'File metadata', pathId: true, ok: [200, { type: 'object' }] }),
        delete: operation({ summary: 'Delete a file', pathId: true, ok: [200, { type: 'object' }] }),
      },
      '/admin/v1/projects': {
        post: operation({ summary: 'Create a project', body: schemaOf(CreateProjectSchema), ok: [201, { type: 'object' }] }),
        get: operation({ summary: 'List projects, each with counts of its jobs by status', ok: [200, { type: 'object' }] }),
      },
      '/admin/v1/projects/{id}': {
        patch: operation({
          summary: 'Rename a project, or set (a number) or remove (null) its limits; other limits stay',
          pathId: true,
          body: schemaOf(UpdateProjectSchema),
          ok: [200, { type: 'object' }],
        }),
      },
      '/admin/v1/projects/{id}/api-keys': {
        post: operation({ summary: 'Create an API key (shown once)', pathId: true, body: schemaOf(CreateApiKeySchema), ok: [201, { type: 'object' }] }),
        get: operation({ summary: 'The project’s API keys (never the key itself)', pathId: true, ok: [200, listOf('ApiKeyListed', false)] }),
      },
      '/admin/v1/admin-keys': {
        get: operation({ summary: 'Every admin key (never the key itself)', ok: [200, listOf('ApiKeyListed', false)] }),
        post: operation({ summary: 'Create an admin key (shown once)', body: schemaOf(CreateApiKeySchema), ok: [201, { type: 'object' }] }),
      },
      '/admin/v1/api-keys/{id}': { delete: operation({ summary: 'Revoke an API key, project or admin (409 for the last active admin key)', pathId: true, ok: [204, {}] }) },
      '/admin/v1/jobs': {
        get: operation({ summary: 'Search the jobs of every project (status: one or several, comma-separated); metadata[KEY]=VALUE filters too', query: AdminListJobsQuerySchema, ok: [200, listOf('Job', true)] }),
        post: operation({ summary: 'Submit a job into a project: {project_id, …the body of POST /v1/jobs}', body: schemaOf(AdminSubmitEnvelopeSchema), ok: [202, ref('Job')] }),
      },
      '/admin/v1/jobs/count': {
        get: operation({ summary: 'How many jobs match the filters of GET /admin/v1/jobs', query: AdminListJobsQuerySchema.omit({ limit: true, cursor: true }), ok: [200, countSchema] }),
      },
      '/admin/v1/jobs/{id}': {
        get: operation({ summary: 'A job of any project, with project_id, project_name and upstream_state (the worker’s raw task state)', pathId: true, ok: [200, { type: 'object' }] }),
      },
      '/admin/v1/jobs/{id}/events': { get: operation({ summary: 'The job’s event log, in seq order', pathId: true, ok: [200, listOf('Event', false)] }) },
      '/admin/v1/jobs/{id}/attempts': { get: operation({ summary: 'Every failed run of the job, oldest first', pathId: true, ok: [200, listOf('JobAttempt', false)] }) },
      '/admin/v1/jobs/{id}/children': { get: operation({ summary: 'Jobs whose parent_id is this job (Midjourney follow-ups)', pathId: true, ok: [200, listOf('Job', false)] }) },
      '/admin/v1/jobs/{id}/cancel': { post: operation({ summary: 'Cancel a queued or running job (409 otherwise)', pathId: true }) },
      '/admin/v1/jobs/{id}/retry': { post: operation({ summary: 'Run a failed or canceled job again (409 otherwise)', pathId: true, ok: [202, ref('Job')] }) },
      '/admin/v1/jobs/bulk-cancel': {
        post: operation({ summary: 'Cancel jobs by ids (≤ 1000) or by filter, in the background; answers the bulk action', body: schemaOf(BulkActionRequestSchema), ok: [202, ref('BulkAction')] }),
      },
      '/admin/v1/jobs/bulk-retry': {
        post: operation({ summary: 'Retry jobs by ids (≤ 1000) or by filter, in the background; answers the bulk action', body: schemaOf(BulkActionRequestSchema), ok: [202, ref('BulkAction')] }),
      },
      '/admin/v1/bulk-actions/{id}': { get: operation({ summary: 'A bulk action’s progress (kept for 24 h)', pathId: true, ok: [200, ref('BulkAction')] }) },
      '/admin/v1/artifacts/{id}/content': { get: operation({ summary: 'Any project’s artifact bytes (Range supported)', pathId: true, ok: [200, {}] }) },
      '/admin/v1/events': {
        get: operation({
          summary: 'Every project’s job events, in event-id order, as text/event-stream (from now, or after Last-Event-ID); each event carries project_id',
          headers: [lastEventIdHeader(ProjectLastEventIdSchema, 'the id (evt_…) of the last event seen; the stream resumes after it')],
          okContent: { 'text/event-stream': { schema: SSE_FRAMES } },
        }),
      },
      '/admin/v1/stats': { get: operation({ summary: 'Counts by status and type (from job_counts), queue figures, last hour and day, series, webhook counts', ok: [200, { type: 'object' }] }) },
      '/admin/v1/webhook-endpoints': {
        get: operation({ summary: 'Webhook endpoints of every project (no secrets)', query: AdminListEndpointsQuerySchema, ok: [200, { type: 'object' }] }),
      },
      '/admin/v1/webhook-endpoints/{id}/enable': {
        post: operation({ summary: 'Re-enable a disabled endpoint (clears disabled_at and the failure run)', pathId: true, ok: [200, { type: 'object' }] }),
      },
      '/admin/v1/webhook-deliveries': {
        get: operation({ summary: 'Deliveries of every project, newest first, each attempt with its response_body', query: AdminListDeliveriesQuerySchema, ok: [200, listOf('WebhookDelivery', true)] }),
      },
      '/admin/v1/webhook-deliveries/{id}/redeliver': {
        post: operation({ summary: 'Send any project’s delivery again now', pathId: true, ok: [202, ref('WebhookDelivery')] }),
      },
      '/admin': {
        get: {
          ...operation({
            summary: 'The dashboard (and every client route below /admin): its index.html; 503 with an HTML page when the build is missing',
            okContent: { 'text/html': { schema: { type: 'string' } } },
          }),
          security: [],
        },
      },
      '/admin/queues': {
        get: {
          ...operation({
            summary: 'bull-board, read only, behind the session or the admin key; a browser without a session is redirected to /admin/login?next=%2Fadmin%2Fqueues',
            okContent: { 'text/html': { schema: { type: 'string' } } },
          }),
          security: [{ bearer: [] }, { adminSession: [] }],
        },
      },
      '/admin/session': {
        post: {
          ...operation({ summary: 'Sign in to the dashboard with the admin key: sets the gq_admin_session cookie (HttpOnly, SameSite=Strict, Path=/admin); 429 after 5 wrong keys in 15 min', body: schemaOf(SignInSchema), ok: [200, ref('AdminSession')] }),
          security: [],
        },
        get: { ...operation({ summary: 'The current dashboard session (same csrf_token), or 401', ok: [200, ref('AdminSession')] }), security: [{ adminSession: [] }] },
        delete: { ...operation({ summary: 'Sign out: ends the session server side and clears the cookie', ok: [204, {}] }), security: [{ adminSession: [] }] },
      },
      '/admin/v1/upstream': { get: operation({ summary: 'Gateway balance and models (cached)', ok: [200, { type: 'object' }] }) },
    }),
  };
}
