import { z } from 'zod';
import { PublicJobSchema } from '@genqueue/core';
import { ErrorBodySchema } from '../middleware/error-handler';
import { AdminListDeliveriesQuerySchema, AdminListEndpointsQuerySchema } from '../routes/admin-webhooks.routes';
import { BulkActionRequestSchema, JobAttemptSchema, JobCountSchema } from '../routes/admin-jobs.routes';
import { AdminSessionSchema, SignInSchema } from '../routes/admin-session.routes';
import { ApiKeySchema, CreatedAdminKeySchema, CreatedProjectKeySchema, ProjectSchema, ProjectWithCountsSchema } from '../routes/admin.routes';
import { DOCS_ASSETS } from '../routes/docs.routes';
import { ProjectLastEventIdSchema } from '../routes/events.routes';
import { DeletedFileSchema, FileSchema } from '../routes/files.routes';
import { HealthSchema, ReadinessSchema } from '../routes/health.routes';
import {
  AdminListJobsQuerySchema,
  CreateApiKeySchema,
  CreateProjectSchema,
  EventsPageQuerySchema,
  IdempotencyKeySchema,
  LastEventIdSchema,
  ListJobsQuerySchema,
  UpdateProjectSchema,
  WaitQuerySchema,
} from '../routes/schemas';
import { CreateEndpointSchema, ListDeliveriesQuerySchema } from '../routes/webhooks.routes';
import { AdminStatsSchema } from '../services/admin-stats';
import { BulkActionSchema } from '../services/bulk-actions';
import { AdminEventSchema, AdminJobDetailSchema, AdminJobSchema, listSchema, pagedListSchema, PublicEventSchema } from '../services/job-views';
import { UpstreamInfoSchema } from '../services/upstream-info';
import { AdminUsageSchema, JobCostsSchema, UsageQueryObjectSchema, UsageSchema } from '../services/usage-views';
import { COMPAT_RESPONSE_COMPONENTS, compatOperations } from './compat-operations';
import {
  AdminWebhookDeliverySchema,
  AdminWebhookEndpointSchema,
  DeletedWebhookEndpointSchema,
  RotatedWebhookEndpointSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookSecretSchema,
} from '../services/webhook-views';

/*
 * Every route the API mounts, described once. `/openapi.json` is generated from this table, and
 * the tests hold it against the routes Express really mounts (both ways) and hold real answers
 * against the zod schemas named here: a route missing from this table fails the tests.
 *
 * To document a new route: add an `Operation` below (its path in OpenAPI form, `{id}` for `:id`),
 * with the zod schemas that validate its request and the zod schema its JSON answer is built to
 * (define that schema next to the code that builds the answer, and name it in RESPONSE_COMPONENTS);
 * then call the route once in apps/api/test/openapi.test.ts ("answers every documented operation"),
 * which checks the real answer against that schema and fails for an operation never called.
 */

export type Method = 'get' | 'post' | 'patch' | 'delete';

/** Who may call: a project key (or the admin key), the admin key or dashboard session, anyone, ... */
export type Access = 'key' | 'admin' | 'public' | 'session' | 'signed_link_or_key' | 'metrics';

export type ResponseSpec = {
  description: string;
  /** the application/json answer, as built by the code */
  json?: z.ZodType;
  /** other media types, with their JSON Schema (pages, streams, bytes) */
  other?: Record<string, Record<string, unknown>>;
};

export type Operation = {
  method: Method;
  path: string;
  summary: string;
  access: Access;
  /** query parameters: the zod object that parses `req.query` */
  query?: z.ZodObject;
  /** path parameters other than `id`, with their JSON Schema */
  pathParams?: Record<string, Record<string, unknown>>;
  headers?: Array<{ name: string; description: string; schema: z.ZodType }>;
  /** the JSON request body: a zod schema, or a named request component (the job requests) */
  body?: z.ZodType | { component: 'JobRequest' | 'AdminJobRequest' | 'BulkJobRequest' };
  /** a non-JSON request body, with its JSON Schema */
  rawBody?: Record<string, Record<string, unknown>>;
  responses: Record<number, ResponseSpec>;
};

/** The error statuses a route guarded by a key can answer (api.md error table). */
export const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 429, 503] as const;

/** The named response bodies: each is a component of `/openapi.json` (`#/components/schemas/<name>`). */
export const JobListSchema = pagedListSchema(PublicJobSchema);
export const AdminJobListSchema = pagedListSchema(AdminJobSchema);
export const AdminJobChildrenSchema = listSchema(AdminJobSchema);
export const EventPageSchema = pagedListSchema(PublicEventSchema);
export const EventListSchema = listSchema(PublicEventSchema);
export const BulkSubmitResultSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.union([PublicJobSchema, ErrorBodySchema])).describe('one entry per submitted job, in order: the job, or why it was refused'),
});
export const WebhookEndpointListSchema = listSchema(WebhookEndpointSchema);
export const WebhookDeliveryPageSchema = pagedListSchema(WebhookDeliverySchema);
export const AdminWebhookEndpointListSchema = listSchema(AdminWebhookEndpointSchema);
export const AdminWebhookDeliveryPageSchema = pagedListSchema(AdminWebhookDeliverySchema);
export const ProjectListSchema = listSchema(ProjectWithCountsSchema);
export const ApiKeyListSchema = listSchema(ApiKeySchema);
export const JobAttemptListSchema = listSchema(JobAttemptSchema);

export const RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  Error: ErrorBodySchema,
  Job: PublicJobSchema,
  JobList: JobListSchema,
  BulkSubmitResult: BulkSubmitResultSchema,
  Event: PublicEventSchema,
  EventPage: EventPageSchema,
  EventList: EventListSchema,
  File: FileSchema,
  DeletedFile: DeletedFileSchema,
  WebhookSecret: WebhookSecretSchema,
  WebhookEndpoint: WebhookEndpointSchema,
  RotatedWebhookEndpoint: RotatedWebhookEndpointSchema,
  DeletedWebhookEndpoint: DeletedWebhookEndpointSchema,
  WebhookEndpointList: WebhookEndpointListSchema,
  WebhookDelivery: WebhookDeliverySchema,
  WebhookDeliveryPage: WebhookDeliveryPageSchema,
  Project: ProjectSchema,
  ProjectWithCounts: ProjectWithCountsSchema,
  ProjectList: ProjectListSchema,
  ApiKey: ApiKeySchema,
  ApiKeyList: ApiKeyListSchema,
  CreatedProjectKey: CreatedProjectKeySchema,
  CreatedAdminKey: CreatedAdminKeySchema,
  AdminJob: AdminJobSchema,
  AdminJobDetail: AdminJobDetailSchema,
  AdminJobList: AdminJobListSchema,
  AdminJobChildren: AdminJobChildrenSchema,
  AdminEvent: AdminEventSchema,
  JobCount: JobCountSchema,
  JobAttempt: JobAttemptSchema,
  JobAttemptList: JobAttemptListSchema,
  BulkAction: BulkActionSchema,
  AdminWebhookEndpoint: AdminWebhookEndpointSchema,
  AdminWebhookEndpointList: AdminWebhookEndpointListSchema,
  AdminWebhookDelivery: AdminWebhookDeliverySchema,
  AdminWebhookDeliveryPage: AdminWebhookDeliveryPageSchema,
  AdminStats: AdminStatsSchema,
  UpstreamInfo: UpstreamInfoSchema,
  Usage: UsageSchema,
  AdminUsage: AdminUsageSchema,
  JobCosts: JobCostsSchema,
  AdminSession: AdminSessionSchema,
  Health: HealthSchema,
  Readiness: ReadinessSchema,
  // the compatible routes (docs/compat.md)
  ...COMPAT_RESPONSE_COMPONENTS,
};

const ok = (json: z.ZodType, description = 'OK'): ResponseSpec => ({ description, json });
const noContent: ResponseSpec = { description: 'Done; no body' };
const html = (description: string): ResponseSpec => ({ description, other: { 'text/html': { type: 'string' } } });
const bytes = (description: string): ResponseSpec => ({
  description,
  other: { 'application/octet-stream': { type: 'string', contentMediaType: 'application/octet-stream', description: 'the stored bytes with their own Content-Type; Range requests answer 206' } },
});
const sse = (frames: string): Record<string, Record<string, unknown>> => ({
  'text/event-stream': {
    type: 'string',
    description: `Frames \`id: <id>\`, \`event: <type>\`, \`data: <${frames} JSON>\`, and a \`: heartbeat\` comment every SSE_HEARTBEAT_MS (15 s)`,
  },
});
const jobAnswer = { 200: ok(PublicJobSchema) };
const idempotencyKey = {
  name: 'Idempotency-Key',
  description: 'the same key and body within 24 h answer the same job (200); the same key with another body answers 409',
  schema: IdempotencyKeySchema,
};

export const OPERATIONS: Operation[] = [
  // jobs
  {
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job; its input is checked against the schema of its type',
    access: 'key',
    headers: [idempotencyKey],
    body: { component: 'JobRequest' },
    responses: { 202: ok(PublicJobSchema, 'Accepted: the new job'), 200: ok(PublicJobSchema, 'The job an earlier request with the same Idempotency-Key made') },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    summary: 'List jobs, newest first; metadata[KEY]=VALUE filters too',
    access: 'key',
    query: ListJobsQuerySchema.omit({ project_id: true, q: true }),
    responses: { 200: ok(JobListSchema) },
  },
  {
    method: 'post',
    path: '/v1/jobs/bulk',
    summary: 'Submit up to 1000 jobs; each is accepted or refused on its own',
    access: 'key',
    body: { component: 'BulkJobRequest' },
    responses: { 202: ok(BulkSubmitResultSchema) },
  },
  { method: 'get', path: '/v1/jobs/{id}', summary: 'A job; ?wait=N holds the answer until it is final or N seconds pass', access: 'key', query: WaitQuerySchema, responses: jobAnswer },
  { method: 'post', path: '/v1/jobs/{id}/cancel', summary: 'Cancel a queued or running job (409 when final)', access: 'key', responses: jobAnswer },
  { method: 'post', path: '/v1/jobs/{id}/retry', summary: 'Run a failed or canceled job again (409 otherwise)', access: 'key', responses: { 202: ok(PublicJobSchema) } },
  {
    method: 'get',
    path: '/v1/jobs/{id}/events',
    summary: 'The job’s event log: text/event-stream (resumes after Last-Event-ID, ends after the final event), or one page of it as JSON with Accept: application/json',
    access: 'key',
    query: EventsPageQuerySchema,
    headers: [{ name: 'Last-Event-ID', description: 'SSE only: the seq of the last event seen; the stream resumes after it', schema: LastEventIdSchema }],
    responses: { 200: { description: 'The stream, or a page of the log', json: EventPageSchema, other: sse('Event') } },
  },
  {
    method: 'get',
    path: '/v1/events',
    summary: 'Every event of the project’s jobs, in event-id order, as text/event-stream (from now, or after Last-Event-ID); the SSE id is the event id',
    access: 'key',
    headers: [{ name: 'Last-Event-ID', description: 'the id (evt_…) of the last event seen; the stream resumes after it', schema: ProjectLastEventIdSchema }],
    responses: { 200: { description: 'The stream', other: sse('Event') } },
  },
  // artifacts and files
  {
    method: 'get',
    path: '/v1/artifacts/{id}/content',
    summary: 'Artifact bytes (Range supported): with the signed link’s expires and sig no key is needed, else the owning project’s key',
    access: 'signed_link_or_key',
    query: z.object({ expires: z.string().optional(), sig: z.string().optional() }),
    responses: { 200: bytes('The bytes'), 206: bytes('The requested range') },
  },
  {
    method: 'post',
    path: '/v1/files',
    summary: 'Upload a file (multipart: purpose, then file); audio ≤ 25 MiB, image ≤ 50 MiB, batch JSONL ≤ 512 MiB by default',
    access: 'key',
    rawBody: {
      'multipart/form-data': {
        type: 'object',
        properties: { purpose: { type: 'string', enum: FileSchema.shape.purpose.options }, file: { type: 'string', contentMediaType: 'application/octet-stream' } },
        required: ['purpose', 'file'],
      },
    },
    responses: { 201: ok(FileSchema) },
  },
  { method: 'get', path: '/v1/files/{id}', summary: 'A file’s metadata', access: 'key', responses: { 200: ok(FileSchema) } },
  { method: 'delete', path: '/v1/files/{id}', summary: 'Delete a file', access: 'key', responses: { 200: ok(DeletedFileSchema) } },
  // webhooks
  { method: 'get', path: '/v1/webhook-secret', summary: 'The project’s secret for per-job webhook URLs (made on first use)', access: 'key', responses: { 200: ok(WebhookSecretSchema) } },
  { method: 'post', path: '/v1/webhook-secret/rotate', summary: 'Replace the project’s webhook secret', access: 'key', responses: { 200: ok(WebhookSecretSchema) } },
  {
    method: 'post',
    path: '/v1/webhook-endpoints',
    summary: 'Register a webhook endpoint (answers it with its own secret, shown this once)',
    access: 'key',
    body: CreateEndpointSchema,
    responses: { 201: ok(WebhookEndpointSchema) },
  },
  { method: 'get', path: '/v1/webhook-endpoints', summary: 'The project’s webhook endpoints', access: 'key', responses: { 200: ok(WebhookEndpointListSchema) } },
  { method: 'delete', path: '/v1/webhook-endpoints/{id}', summary: 'Remove a webhook endpoint', access: 'key', responses: { 200: ok(DeletedWebhookEndpointSchema) } },
  {
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    summary: 'A new signing secret for the endpoint, shown this once; the previous one signs beside it for 24 h',
    access: 'key',
    responses: { 200: ok(RotatedWebhookEndpointSchema) },
  },
  {
    method: 'get',
    path: '/v1/webhook-deliveries',
    summary: 'Webhook deliveries with their attempts, newest first',
    access: 'key',
    query: ListDeliveriesQuerySchema,
    responses: { 200: ok(WebhookDeliveryPageSchema) },
  },
  { method: 'get', path: '/v1/webhook-deliveries/{id}', summary: 'One webhook delivery with every attempt', access: 'key', responses: { 200: ok(WebhookDeliverySchema) } },
  { method: 'post', path: '/v1/webhook-deliveries/{id}/redeliver', summary: 'Send a delivery again now', access: 'key', responses: { 202: ok(WebhookDeliverySchema) } },
  // administration
  { method: 'post', path: '/admin/v1/projects', summary: 'Create a project', access: 'admin', body: CreateProjectSchema, responses: { 201: ok(ProjectSchema) } },
  { method: 'get', path: '/admin/v1/projects', summary: 'List projects, each with counts of its jobs by status', access: 'admin', responses: { 200: ok(ProjectListSchema) } },
  {
    method: 'patch',
    path: '/admin/v1/projects/{id}',
    summary: 'Rename a project, or set (a number) or remove (null) its limits; other limits stay',
    access: 'admin',
    body: UpdateProjectSchema,
    responses: { 200: ok(ProjectSchema) },
  },
  { method: 'post', path: '/admin/v1/projects/{id}/api-keys', summary: 'Create an API key (shown once)', access: 'admin', body: CreateApiKeySchema, responses: { 201: ok(CreatedProjectKeySchema) } },
  { method: 'get', path: '/admin/v1/projects/{id}/api-keys', summary: 'The project’s API keys (never the key itself)', access: 'admin', responses: { 200: ok(ApiKeyListSchema) } },
  { method: 'get', path: '/admin/v1/admin-keys', summary: 'Every admin key (never the key itself)', access: 'admin', responses: { 200: ok(ApiKeyListSchema) } },
  { method: 'post', path: '/admin/v1/admin-keys', summary: 'Create an admin key (shown once)', access: 'admin', body: CreateApiKeySchema, responses: { 201: ok(CreatedAdminKeySchema) } },
  { method: 'delete', path: '/admin/v1/api-keys/{id}', summary: 'Revoke an API key, project or admin (409 for the last active admin key)', access: 'admin', responses: { 204: noContent } },
  {
    method: 'get',
    path: '/admin/v1/jobs',
    summary: 'Search the jobs of every project (status: one or several, comma-separated); metadata[KEY]=VALUE filters too',
    access: 'admin',
    query: AdminListJobsQuerySchema,
    responses: { 200: ok(AdminJobListSchema) },
  },
  {
    method: 'post',
    path: '/admin/v1/jobs',
    summary: 'Submit a job into a project: {project_id, …the body of POST /v1/jobs}',
    access: 'admin',
    headers: [idempotencyKey],
    body: { component: 'AdminJobRequest' },
    responses: { 202: ok(AdminJobSchema, 'Accepted: the new job'), 200: ok(AdminJobSchema, 'The job an earlier request with the same Idempotency-Key made') },
  },
  {
    method: 'get',
    path: '/admin/v1/jobs/count',
    summary: 'How many jobs match the filters of GET /admin/v1/jobs',
    access: 'admin',
    query: AdminListJobsQuerySchema.omit({ limit: true, cursor: true }),
    responses: { 200: ok(JobCountSchema) },
  },
  {
    method: 'get',
    path: '/admin/v1/jobs/{id}',
    summary: 'A job of any project, with project_id, project_name and upstream_state (the worker’s raw task state)',
    access: 'admin',
    responses: { 200: ok(AdminJobDetailSchema) },
  },
  { method: 'get', path: '/admin/v1/jobs/{id}/events', summary: 'The job’s event log, in seq order', access: 'admin', responses: { 200: ok(EventListSchema) } },
  { method: 'get', path: '/admin/v1/jobs/{id}/attempts', summary: 'Every failed run of the job, oldest first', access: 'admin', responses: { 200: ok(JobAttemptListSchema) } },
  { method: 'get', path: '/admin/v1/jobs/{id}/children', summary: 'Jobs whose parent_id is this job (Midjourney follow-ups)', access: 'admin', responses: { 200: ok(AdminJobChildrenSchema) } },
  { method: 'post', path: '/admin/v1/jobs/{id}/cancel', summary: 'Cancel a queued or running job (409 otherwise)', access: 'admin', responses: { 200: ok(AdminJobSchema) } },
  { method: 'post', path: '/admin/v1/jobs/{id}/retry', summary: 'Run a failed or canceled job again (409 otherwise)', access: 'admin', responses: { 202: ok(AdminJobSchema) } },
  {
    method: 'post',
    path: '/admin/v1/jobs/bulk-cancel',
    summary: 'Cancel jobs by ids (≤ 1000) or by filter, in the background; answers the bulk action',
    access: 'admin',
    body: BulkActionRequestSchema,
    responses: { 202: ok(BulkActionSchema) },
  },
  {
    method: 'post',
    path: '/admin/v1/jobs/bulk-retry',
    summary: 'Retry jobs by ids (≤ 1000) or by filter, in the background; answers the bulk action',
    access: 'admin',
    body: BulkActionRequestSchema,
    responses: { 202: ok(BulkActionSchema) },
  },
  { method: 'get', path: '/admin/v1/bulk-actions/{id}', summary: 'A bulk action’s progress (kept for 24 h)', access: 'admin', responses: { 200: ok(BulkActionSchema) } },
  {
    method: 'get',
    path: '/admin/v1/artifacts/{id}/content',
    summary: 'Any project’s artifact bytes (Range supported)',
    access: 'admin',
    responses: { 200: bytes('The bytes'), 206: bytes('The requested range') },
  },
  {
    method: 'get',
    path: '/admin/v1/events',
    summary: 'Every project’s job events, in event-id order, as text/event-stream (from now, or after Last-Event-ID); each event carries project_id',
    access: 'admin',
    headers: [{ name: 'Last-Event-ID', description: 'the id (evt_…) of the last event seen; the stream resumes after it', schema: ProjectLastEventIdSchema }],
    responses: { 200: { description: 'The stream', other: sse('AdminEvent') } },
  },
  {
    method: 'get',
    path: '/admin/v1/stats',
    summary: 'Counts by status and type (from job_counts), queue figures, last hour and day, series, webhook counts',
    access: 'admin',
    responses: { 200: ok(AdminStatsSchema) },
  },
  { method: 'get', path: '/admin/v1/upstream', summary: 'The gateway’s balance and models (cached)', access: 'admin', responses: { 200: ok(UpstreamInfoSchema) } },
  {
    method: 'get',
    path: '/admin/v1/usage',
    summary: 'Spend from the cost ledger across projects, per UTC day, project and job type, with per-project totals and the last gateway balance',
    access: 'admin',
    query: UsageQueryObjectSchema,
    responses: { 200: ok(AdminUsageSchema) },
  },
  { method: 'get', path: '/admin/v1/usage/jobs/{id}', summary: 'One job’s cost ledger entries (any project)', access: 'admin', responses: { 200: ok(JobCostsSchema) } },
  {
    method: 'get',
    path: '/v1/usage',
    summary: 'The project’s spend from the cost ledger, per UTC day and job type, in quota units and US$',
    access: 'key',
    query: UsageQueryObjectSchema.omit({ project_id: true }),
    responses: { 200: ok(UsageSchema) },
  },
  { method: 'get', path: '/v1/usage/jobs/{id}', summary: 'One job’s cost ledger entries: charges, refunds, their source and derivation', access: 'key', responses: { 200: ok(JobCostsSchema) } },
  {
    method: 'get',
    path: '/admin/v1/webhook-endpoints',
    summary: 'Webhook endpoints of every project (no secrets)',
    access: 'admin',
    query: AdminListEndpointsQuerySchema,
    responses: { 200: ok(AdminWebhookEndpointListSchema) },
  },
  {
    method: 'post',
    path: '/admin/v1/webhook-endpoints/{id}/enable',
    summary: 'Re-enable a disabled endpoint (clears disabled_at and the failure run)',
    access: 'admin',
    responses: { 200: ok(AdminWebhookEndpointSchema) },
  },
  {
    method: 'get',
    path: '/admin/v1/webhook-deliveries',
    summary: 'Deliveries of every project, newest first, each attempt with its response_body',
    access: 'admin',
    query: AdminListDeliveriesQuerySchema,
    responses: { 200: ok(AdminWebhookDeliveryPageSchema) },
  },
  {
    method: 'post',
    path: '/admin/v1/webhook-deliveries/{id}/redeliver',
    summary: 'Send any project’s delivery again now',
    access: 'admin',
    responses: { 202: ok(AdminWebhookDeliverySchema) },
  },
  // the dashboard and its session
  {
    method: 'post',
    path: '/admin/session',
    summary: 'Sign in to the dashboard with the admin key: sets the gq_admin_session cookie (HttpOnly, SameSite=Strict, Path=/admin); 429 after 5 wrong keys in 15 min',
    access: 'public',
    body: SignInSchema,
    responses: { 200: ok(AdminSessionSchema), 401: { description: 'unauthorized', json: ErrorBodySchema }, 429: { description: 'rate_limited', json: ErrorBodySchema } },
  },
  { method: 'get', path: '/admin/session', summary: 'The current dashboard session (same csrf_token), or 401', access: 'session', responses: { 200: ok(AdminSessionSchema) } },
  { method: 'delete', path: '/admin/session', summary: 'Sign out: ends the session server side and clears the cookie', access: 'session', responses: { 204: noContent } },
  {
    method: 'get',
    path: '/admin',
    summary: 'The dashboard (and every client route below /admin): its index.html; 503 with an HTML page when the build is missing',
    access: 'public',
    responses: { 200: html('The dashboard'), 503: html('The dashboard is not built') },
  },
  {
    method: 'get',
    path: '/admin/queues',
    summary: 'bull-board, read only, behind the session or the admin key; a browser without a session is redirected to /admin/login?next=%2Fadmin%2Fqueues',
    access: 'admin',
    responses: { 200: html('bull-board’s page (its own JSON API and assets live below this path)'), 302: { description: 'To the sign-in page' } },
  },
  // health, metrics and this document
  { method: 'get', path: '/healthz', summary: 'The process is up', access: 'public', responses: { 200: ok(HealthSchema) } },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Redis and Postgres are reachable (workers need not be up)',
    access: 'public',
    responses: { 200: ok(ReadinessSchema), 503: { description: 'Not ready (has Retry-After)', json: ReadinessSchema } },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: the admin key or METRICS_TOKEN as the bearer',
    access: 'metrics',
    responses: {
      200: { description: 'Prometheus text exposition', other: { 'text/plain': { type: 'string' } } },
      401: { description: 'unauthorized', json: ErrorBodySchema },
      403: { description: 'forbidden', json: ErrorBodySchema },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (OpenAPI 3.1), generated from the zod schemas that validate requests and shape answers',
    access: 'public',
    responses: { 200: { description: 'The document', other: { 'application/json': { type: 'object' } } } },
  },
  { method: 'get', path: '/docs', summary: 'A readable reference of this document (Swagger UI, served from the installed swagger-ui-dist)', access: 'public', responses: { 200: html('The page') } },
  {
    method: 'get',
    path: '/docs/{asset}',
    summary: 'The reference page’s scripts, styles and icons',
    access: 'public',
    pathParams: { asset: { type: 'string', enum: [...DOCS_ASSETS] } },
    responses: { 200: { description: 'The file', other: { 'text/javascript': { type: 'string' }, 'text/css': { type: 'string' }, 'image/png': { type: 'string' } } }, 404: { description: 'not_found', json: ErrorBodySchema } },
  },
  // the drop-in compatible routes (docs/compat.md), errors in their own APIs' shapes
  ...compatOperations(IdempotencyKeySchema),
];
