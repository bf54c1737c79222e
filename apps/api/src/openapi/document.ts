import { z } from 'zod';
import { JOB_TYPES, JobRequestSchema, MediaSourceSchema } from '@genqueue/core';
import { AdminSubmitEnvelopeSchema } from '../routes/admin-jobs.routes';
import { BulkRequestSchema } from '../routes/schemas';
import { ERROR_STATUSES, OPERATIONS, RESPONSE_COMPONENTS, type Access, type Operation } from './operations';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const uri = (id: string): string => `#/components/schemas/${id}`;

/** `image.generate` → `ImageGenerate`, `audio.gemini_speech` → `AudioGeminiSpeech`. */
export const typeName = (type: string): string =>
  type
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) without the keys only a standalone document has. */
function clean(schema: Json): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/**
 * A request component's defaults, said in its description instead of `default`: generators type a
 * component property that has a `default` as always present (openapi-typescript does unless told
 * `--default-non-nullable false`), which would make a client send `model` and `n` it may leave out.
 * Inline request bodies and parameters keep their `default`.
 */
function defaultsInWords(schema: Json): Json {
  const out: Json = { ...schema };
  if ('default' in out) {
    const said = `Default: ${JSON.stringify(out['default'])}.`;
    out['description'] = typeof out['description'] === 'string' ? `${out['description']} ${said}` : said;
    delete out['default'];
  }
  const each = (value: unknown): unknown => (value && typeof value === 'object' && !Array.isArray(value) ? defaultsInWords(value as Json) : value);
  if (out['properties']) out['properties'] = Object.fromEntries(Object.entries(out['properties'] as Json).map(([k, v]) => [k, each(v)]));
  for (const key of ['items', 'additionalProperties', 'not']) if (key in out) out[key] = each(out[key]);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(each);
  return out;
}

/** One schema of what a request may send (its input side: defaults optional, coercions as sent). */
export function requestSchema(schema: z.ZodType): Json {
  return clean(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json);
}

/**
 * Answers may grow new fields (api.md: extend freely), so a plain `z.object` answer does not say
 * `additionalProperties: false`; a strict one would.
 */
function openAnswers(ctx: { zodSchema: unknown; jsonSchema: Json }): void {
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; catchall?: unknown } } })._zod?.def;
  if (def?.type === 'object' && def.catchall === undefined && ctx.jsonSchema['additionalProperties'] === false) delete ctx.jsonSchema['additionalProperties'];
}

/** The response components: every zod schema of RESPONSE_COMPONENTS, nested ones as $refs. */
function responseComponents(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', unrepresentable: 'any', uri, override: (ctx) => openAnswers(ctx as never) });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, clean(schema as Json)]));
}

/**
 * The request components: per job type its input (`<Type>Input`), the request carrying it
 * (`<Type>JobRequest`, `type` fixed), their `oneOf` discriminated on `type` (`JobRequest`), the same
 * with `project_id` for the admin route, and the bulk request.
 */
function requestComponents(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  registry.add(MediaSourceSchema, { id: 'MediaSource' });
  const branches = JOB_TYPES.map((spec) => {
    const name = typeName(spec.type);
    registry.add(spec.input, { id: `${name}Input` });
    const branch = JobRequestSchema.extend({ type: z.literal(spec.type), input: spec.input });
    registry.add(branch, { id: `${name}JobRequest` });
    const adminBranch = branch.extend({ project_id: AdminSubmitEnvelopeSchema.shape.project_id });
    registry.add(adminBranch, { id: `Admin${name}JobRequest` });
    return { type: spec.type, name, branch, adminBranch };
  });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', unrepresentable: 'any', uri });
  const out = Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, defaultsInWords(clean(schema as Json))]));
  const union = (prefix: string, description: string): Json => ({
    description,
    oneOf: branches.map((b) => ref(`${prefix}${b.name}JobRequest`)),
    discriminator: { propertyName: 'type', mapping: Object.fromEntries(branches.map((b) => [b.type, uri(`${prefix}${b.name}JobRequest`)])) },
  });
  out['JobRequest'] = union('', `A job request: \`type\` names the job type and \`input\` is checked against that type’s schema (${branches.map((b) => b.type).join(', ')})`);
  out['AdminJobRequest'] = union('Admin', 'A job request of POST /v1/jobs with the project_id it goes into');
  const bulk = requestSchema(BulkRequestSchema) as { properties: { jobs: Json } };
  bulk.properties.jobs = { ...bulk.properties.jobs, items: ref('JobRequest') };
  out['BulkJobRequest'] = bulk;
  return out;
}

const SECURITY: Record<Access, unknown[]> = {
  key: [{ bearer: [] }],
  admin: [{ bearer: [] }, { adminSession: [] }],
  public: [],
  session: [{ adminSession: [] }],
  signed_link_or_key: [{}, { bearer: [] }],
  metrics: [{ bearer: [] }],
};
const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Components are referenced by the name they have in RESPONSE_COMPONENTS; an unnamed answer is a mistake of the table. */
const componentNames = new Map<z.ZodType, string>(Object.entries(RESPONSE_COMPONENTS).map(([name, schema]) => [schema, name]));
function componentOf(schema: z.ZodType, where: string): string {
  const name = componentNames.get(schema);
  if (!name) throw new Error(`${where}: its answer schema is not named in RESPONSE_COMPONENTS`);
  return name;
}

function parametersOf(op: Operation): Json[] {
  const params: Json[] = [];
  for (const [, name] of op.path.matchAll(/\{(\w+)\}/g)) {
    params.push({ name, in: 'path', required: true, schema: op.pathParams?.[name as string] ?? { type: 'string' } });
  }
  if (op.query) {
    const json = requestSchema(op.query) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      params.push({ name, in: 'query', required: (json.required ?? []).includes(name), schema });
    }
  }
  for (const header of op.headers ?? []) {
    params.push({ name: header.name, in: 'header', required: false, description: header.description, schema: requestSchema(header.schema) });
  }
  return params;
}

function operationObject(op: Operation): Json {
  const where = `${op.method.toUpperCase()} ${op.path}`;
  const responses: Record<string, Json> = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    const content: Record<string, Json> = {};
    if (spec.json) content['application/json'] = { schema: ref(componentOf(spec.json, where)) };
    for (const [type, schema] of Object.entries(spec.other ?? {})) content[type] = { schema };
    responses[status] = { description: spec.description, ...(Object.keys(content).length ? { content } : {}) };
  }
  if (op.access !== 'public' && op.access !== 'metrics') {
    for (const status of ERROR_STATUSES) {
      responses[String(status)] ??= { description: ERROR_CODES[status], content: { 'application/json': { schema: ref('Error') } } };
    }
  }
  const parameters = parametersOf(op);
  let requestBody: Json | undefined;
  if (op.body) {
    const schema = 'component' in op.body ? ref(op.body.component) : requestSchema(op.body as z.ZodType);
    requestBody = { required: true, content: { 'application/json': { schema } } };
  } else if (op.rawBody) {
    requestBody = { required: true, content: Object.fromEntries(Object.entries(op.rawBody).map(([type, schema]) => [type, { schema }])) };
  }
  return {
    operationId: operationId(op),
    summary: op.summary,
    tags: [tagOf(op.path)],
    security: SECURITY[op.access],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** `post /v1/jobs/{id}/cancel` → `postV1JobsIdCancel`. */
const operationId = (op: Operation): string =>
  op.method + op.path.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');

function tagOf(path: string): string {
  if (path.startsWith('/admin/v1/')) return 'admin';
  if (path.startsWith('/admin')) return 'dashboard';
  if (path.startsWith('/v1/webhook')) return 'webhooks';
  if (path.startsWith('/v1/files') || path.startsWith('/v1/artifacts')) return 'files';
  if (path.startsWith('/v1/')) return 'jobs';
  return 'service';
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and shape answers. */
export function buildOpenApiDocument(serverUrl: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of OPERATIONS) {
    const path = (paths[op.path] ??= {});
    if (path[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is described twice`);
    path[op.method] = operationObject(op);
  }
  const responses = responseComponents();
  const requests = requestComponents();
  const clash = Object.keys(requests).find((name) => name in responses);
  if (clash) throw new Error(`component ${clash} is both a request and an answer`);
  return {
    openapi: '3.1.0',
    info: { title: 'genqueue', version: '1.0.0', description: 'Durable jobs for an AI aggregator gateway. The reference: docs/api.md; readable at /docs.' },
    servers: [{ url: serverUrl }],
    tags: [{ name: 'jobs' }, { name: 'files' }, { name: 'webhooks' }, { name: 'admin' }, { name: 'dashboard' }, { name: 'service' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a project key (gq_…) or the admin key' },
        // the dashboard's alternative to the admin key on /admin/*; mutating requests add X-CSRF-Token
        adminSession: { type: 'apiKey', in: 'cookie', name: 'gq_admin_session' },
      },
      schemas: { ...requests, ...responses },
    },
    paths,
  };
}
