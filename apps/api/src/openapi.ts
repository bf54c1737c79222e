import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { JOB_TYPES, JobRequestSchema, MediaSourceSchema } from '@genqueue/core';
import {
  BulkRequestSchema,
  CreateApiKeySchema,
  CreateProjectSchema,
  ListJobsQuerySchema,
  WaitQuerySchema,
} from './routes/schemas';

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

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const errors = {
  400: { description: 'invalid_request', ...json(ErrorSchema) },
  401: { description: 'unauthorized', ...json(ErrorSchema) },
  404: { description: 'not_found', ...json(ErrorSchema) },
  429: { description: 'rate_limited', ...json(ErrorSchema) },
};
const idParam = z.object({ id: z.string() });

/** The OpenAPI document, built from the same zod schemas that validate requests. */
export function buildOpenApiDocument(serverUrl: string): unknown {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  registry.register('Error', ErrorSchema);
  registry.register('Job', JobSchema);
  registry.register('MediaSource', MediaSourceSchema);
  registry.register('JobRequest', JobRequestSchema);
  for (const spec of JOB_TYPES) registry.register(`Input_${spec.type.replace('.', '_')}`, spec.input);

  const path = (method: 'get' | 'post' | 'delete', route: string, summary: string, extra: Record<string, unknown> = {}) =>
    registry.registerPath({ method, path: route, summary, security: [{ bearer: [] }], responses: { 200: { description: 'OK', ...json(JobSchema) }, ...errors }, ...extra });

  path('post', '/v1/jobs', 'Submit a job (Idempotency-Key header supported)', {
    request: { body: json(JobRequestSchema), headers: z.object({ 'Idempotency-Key': z.string().optional() }) },
    responses: { 202: { description: 'Accepted', ...json(JobSchema) }, 200: { description: 'Same idempotent request', ...json(JobSchema) }, 409: { description: 'conflict', ...json(ErrorSchema) }, 413: { description: 'payload_too_large', ...json(ErrorSchema) }, ...errors },
  });
  path('post', '/v1/jobs/bulk', 'Submit up to 1000 jobs', { request: { body: json(BulkRequestSchema) } });
  path('get', '/v1/jobs', 'List jobs, newest first', { request: { query: ListJobsQuerySchema.omit({ project_id: true, q: true }) } });
  path('get', '/v1/jobs/{id}', 'Get a job; ?wait=N holds until final', { request: { params: idParam, query: WaitQuerySchema } });
  path('post', '/v1/jobs/{id}/cancel', 'Cancel a queued or running job', { request: { params: idParam } });
  path('post', '/v1/jobs/{id}/retry', 'Run a failed or canceled job again', { request: { params: idParam } });
  path('get', '/v1/jobs/{id}/events', 'The job event log', { request: { params: idParam } });
  path('get', '/v1/artifacts/{id}/content', 'Artifact bytes (Range supported)', { request: { params: idParam } });
  path('post', '/v1/files', 'Upload a file (multipart: file, purpose)');
  path('get', '/v1/files/{id}', 'File metadata', { request: { params: idParam } });
  path('delete', '/v1/files/{id}', 'Delete a file', { request: { params: idParam } });
  path('post', '/admin/v1/projects', 'Create a project', { request: { body: json(CreateProjectSchema) } });
  path('get', '/admin/v1/projects', 'List projects');
  path('post', '/admin/v1/projects/{id}/api-keys', 'Create an API key', { request: { params: idParam, body: json(CreateApiKeySchema) } });
  path('delete', '/admin/v1/api-keys/{id}', 'Revoke an API key', { request: { params: idParam } });
  path('get', '/admin/v1/jobs', 'Search jobs of every project', { request: { query: ListJobsQuerySchema } });
  path('get', '/admin/v1/stats', 'Counts, queue depths, throughput');
  path('get', '/admin/v1/upstream', 'Gateway balance and models (cached)');

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'genqueue', version: '1.0.0', description: 'Durable jobs for an AI aggregator gateway' },
    servers: [{ url: serverUrl }],
  });
}
