import path from 'node:path';
import fc from 'fast-check';
import { Agent, fetch as undiciFetch } from 'undici';
import { z } from 'zod';
import { JOB_TYPES } from '@genqueue/core';
import type { Project, TestStack } from '@genqueue/testing';
import { CreateEndpointSchema } from '../src/routes/webhooks.routes';
import { filesUnder, queuedJobIds, sql, useStack } from './helpers';

/**
 * Property-based fuzzing of every route and job type (issue 11, item 6): generated and mutated
 * requests (bodies shaped by the real zod schemas, then broken; headers; query strings; multipart
 * parts; JSONL lines; unicode, NULs, huge and deep values). Asserted for every answer: never a 5xx,
 * the contract's error shape on every 4xx; and at the end, no job, file or webhook endpoint row, no
 * BullMQ entry and no stored file that an accepted request did not create.
 *
 * Runs with a fixed seed and one random seed (printed; FUZZ_SEED replaces the random one).
 */

const FIXED_SEED = 20_261_204;
const RANDOM_SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31);
/** requests per batch × batches per seed × two seeds = 10,200 requests (FUZZ_BATCHES: more or fewer) */
const BATCH = 50;
const BATCHES_PER_SEED = Number(process.env['FUZZ_BATCHES'] ?? 102);
/** requests in flight at once (keep-alive connections of fetch's pool) */
const CONCURRENCY = 8;
/**
 * A request answered in neither this time nor with headers is a hang, not a pass. Generous: CI
 * runs this file beside the fault and browser suites on two cores, where a busy API process can
 * stall ordinary requests for seconds (seen once at 15 s, never reproduced alone with that seed).
 */
const REQUEST_TIMEOUT_MS = 60_000;

const ERROR_CODES = ['invalid_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'rate_limited', 'unavailable'];

type FuzzRequest = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** which key: the fuzz project's, the other project's, the admin key, none, or a raw Authorization value */
  auth: 'project' | 'other' | 'admin' | 'none' | { raw: string };
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** what a success creates, for the final ledger */
  creates?: 'job' | 'jobs' | 'file' | 'endpoint';
};

type Answer = { status: number; contentType: string; text: string };

// ---------------------------------------------------------------------------------------------
// Values

/** Strings a parser or a database may choke on. */
const nastyString = fc.oneof(
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u0000\uffff',
    '😀'.repeat(50),
    '%00',
    '%ZZ',
    '../../etc/passwd',
    '<svg onload=alert(1)>',
    "'; DROP TABLE jobs; --",
    '\r\nX-Injected: 1',
    '__proto__',
    'constructor',
    ' '.repeat(300),
    'ǅ'.repeat(2000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers at and past every edge. */
const nastyNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -(2 ** 31) - 1, 4.9e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nested `depth` deep (arrays or objects). */
const deep = (depth: number, asObject: boolean): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = asObject ? { a: value } : [value];
  return value;
};

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.constantFrom<unknown>(null, true, false, [], {}, [null]),
  // own keys named __proto__ / constructor, as JSON.parse makes them
  fc.constantFrom('{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"x": 1}}}').map((text) => JSON.parse(text) as unknown),
  fc.integer({ min: 1, max: 200 }).chain((depth) => fc.boolean().map((asObject) => deep(depth, asObject))),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(nastyString, { maxLength: 30 }),
  fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 5 }),
);

/** An arbitrary of values shaped by a JSON schema (from zod's toJSONSchema): mostly valid ones. */
function fromSchema(schema: any, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object' || depth > 5) return fc.jsonValue({ maxDepth: 1 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options) && options.length > 0) return fc.oneof(...options.map((s: unknown) => fromSchema(s, depth + 1)));
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return fromSchema(schema.allOf[0], depth + 1);
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uri') return fc.constantFrom('http://127.0.0.1:9/x', 'https://example.org/a.png', 'ftp://example.org/', 'http://[::1]/', 'http://169.254.169.254/latest');
      if (typeof schema.pattern === 'string') {
        try {
          return fc.stringMatching(new RegExp(schema.pattern)).map((s) => s.slice(0, 300));
        } catch {
          // a pattern fast-check cannot generate from: any string
        }
      }
      const minLength = schema.minLength ?? 0;
      return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 40, 200)) });
    }
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1_000_000, -1_000_000), max: Math.min(schema.maximum ?? 1_000_000, 1_000_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(fromSchema(schema.items, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)) });
    }
    case 'object': {
      const properties: Record<string, any> = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, fromSchema(s, depth + 1)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key: string) => key in properties) });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** Every path of a JSON value (objects and arrays), the root included. */
function pathsOf(value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (out.length > 200) return out;
  if (Array.isArray(value)) value.slice(0, 20).forEach((item, i) => pathsOf(item, [...at, i], out));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) pathsOf(item, [...at, key], out);
  return out;
}

type Mutation = { kind: 'none' } | { kind: 'set'; pick: number; value: unknown } | { kind: 'delete'; pick: number } | { kind: 'add'; pick: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' } as Mutation) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'extra')), value: nastyValue }) },
);

/** `value` with the mutations applied (a copy). */
function mutate(value: unknown, mutations: Mutation[]): unknown {
  let root: unknown = structuredClone(value);
  for (const mutation of mutations) {
    if (mutation.kind === 'none') continue;
    // a copy of the value: fc.constantFrom hands out the same [] / {} / [null] every time, and one
    // inserted by reference would be mutated in place and could end up containing itself
    const m = 'value' in mutation ? { ...mutation, value: structuredClone(mutation.value) } : mutation;
    const paths = pathsOf(root);
    const target = paths[m.pick % paths.length]!;
    if (target.length === 0) {
      if (m.kind === 'set') root = m.value;
      else if (m.kind === 'add' && root && typeof root === 'object' && !Array.isArray(root)) Object.defineProperty(root, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      continue;
    }
    let parent: any = root;
    for (const key of target.slice(0, -1)) parent = parent[key];
    const last = target[target.length - 1]!;
    if (m.kind === 'set') parent[last] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
      Object.defineProperty(parent[last], m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    }
  }
  return root;
}

const mutated = (base: fc.Arbitrary<unknown>) => fc.tuple(base, fc.array(mutation, { maxLength: 3 })).map(([value, ms]) => mutate(value, ms));

// ---------------------------------------------------------------------------------------------
// Requests

const jsonSchemaOf = (schema: z.ZodType): any => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/** A job request of one real type, input from its schema. */
const jobBody = (ids: Ids): fc.Arbitrary<unknown> =>
  fc.oneof(
    ...JOB_TYPES.map((spec) =>
      fc.record(
        {
          type: fc.constant(spec.type),
          input: fromSchema(jsonSchemaOf(spec.input)).map((input) => withKnownIds(input, ids)),
          metadata: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
          priority: fc.integer({ min: 0, max: 11 }),
          webhook_url: fc.constantFrom('http://127.0.0.1:9/hook', 'https://example.org/hook', 'not a url', 'http://10.0.0.1/'),
          webhook_events: fc.array(fc.constantFrom('job.succeeded', 'job.failed', 'job.nothing'), { maxLength: 2 }),
          ttl_seconds: fc.integer({ min: -1, max: 1_000_000 }),
          deadline_seconds: fc.integer({ min: -1, max: 1_000_000 }),
        },
        { requiredKeys: ['type', 'input'] },
      ),
    ),
    fc.record({ type: fc.oneof(nastyString, fc.constantFrom('image', 'image.generate ', 'IMAGE.GENERATE')), input: nastyValue }),
  );

/** Ids the fuzz run knows (files it uploaded, jobs it made), so inputs sometimes name real ones. */
type Ids = { fileIds: string[]; jobIds: string[]; otherFileId: string };

/** file_id / job_id values in an input swapped for known ones now and then (deterministically). */
function withKnownIds(input: unknown, ids: Ids): unknown {
  if (!input || typeof input !== 'object') return input;
  const text = JSON.stringify(input);
  let n = 0;
  for (const ch of text) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  const pick = <T>(list: T[]): T | undefined => (list.length ? list[n % list.length] : undefined);
  const swapped = text
    .replace(/"file_id":"[^"]*"/g, (m) => (n % 3 === 0 ? `"file_id":${JSON.stringify(pick([...ids.fileIds, ids.otherFileId]) ?? 'file_x')}` : m))
    .replace(/"job_id":"[^"]*"/g, (m) => (n % 3 === 1 ? `"job_id":${JSON.stringify(pick(ids.jobIds) ?? 'job_x')}` : m));
  return JSON.parse(swapped);
}

const jsonBody = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** Percent-encodes `text`, lone surrogates as U+FFFD (encodeURIComponent throws on them). */
const pct = (text: string): string => encodeURIComponent((text as string & { toWellFormed(): string }).toWellFormed());

/** Bytes that are not the JSON they claim to be. */
const brokenJson = fc.oneof(
  fc.constantFrom('{', '{"type":', '[1,2', '\ufeff{"type":"image.generate"}', '{"a":1}{"b":2}', 'nul\u0000l', '{"type":"image.generate","input":{"prompt":"a\\u0000b"}}', '"\\ud800"', ''),
  fc.integer({ min: 60, max: 5_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 60, max: 5_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=nope',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/*',
);

const jobId = (ids: Ids) => fc.oneof(fc.constantFrom(...(ids.jobIds.length ? ids.jobIds : ['job_01JD7Q3V9XK6M2N4P8R0S5T7VW'])), fc.constant('job_00000000000000000000000000'), nastyString.map(pct), fc.constantFrom('%00', '%ZZ', '..', '%2e%2e', 'job_' + 'A'.repeat(500)));

const queryValue = fc.oneof(nastyString, nastyNumber.map(String), fc.constantFrom('1', '100', '101', '0', '-1', 'true', '2026-01-01T00:00:00Z', 'not-a-date', 'succeeded', 'failed,canceled'));
const queryKey = fc.oneof(
  fc.constantFrom('limit', 'cursor', 'type', 'status', 'created_after', 'created_before', 'q', 'project_id', 'after_seq', 'wait', 'job_id', 'endpoint_id', 'metadata[order]', 'metadata[]', 'metadata[a][b]', 'expires', 'sig', 'limit[]', 'status[0]'),
  nastyString,
);
const queryString = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 5 })
  .map((pairs) => (pairs.length ? '?' + pairs.map(([k, v]) => `${pct(k)}=${k === 'wait' && /^\d+$/.test(v) && Number(v) > 0 ? '0' : pct(v)}`).join('&') : ''));
/** Queries written by hand: broken percent-encoding and repeated keys. */
const rawQuery = fc.constantFrom('?limit=%ZZ', '?status=queued&status=failed', '?metadata[order]=a&metadata[order]=b', '?cursor=' + 'A'.repeat(5000), '?q=%00', '?limit[a]=1', '?__proto__[x]=1', '?after_seq=1e3');

/** A multipart body written byte by byte (FormData would clean the names a client may send). */
const multipart = fc
  .record({
    boundary: fc.constantFrom('fuzz-boundary', 'b', '-'.repeat(70), 'x y'),
    purpose: fc.oneof(fc.constantFrom('batch', 'audio', 'image', 'batch', 'other', ''), nastyString),
    filename: fc.oneof(fc.constantFrom('a.jsonl', 'a\u0000b.jsonl', '../../x', '', '"', 'ü.jsonl', '\r\n', 'a'.repeat(5_000)), nastyString),
    fileType: fc.constantFrom('application/jsonl', 'application/octet-stream', 'image/png', 'text/plain', ''),
    lines: fc.array(
      fc.oneof(
        fc.record({ custom_id: fc.string({ maxLength: 10 }), input: fc.string({ minLength: 1, maxLength: 30 }) }).map((line) => JSON.stringify(line)),
        nastyValue.map((value) => JSON.stringify(value) ?? ''),
        nastyString,
      ),
      { maxLength: 8 },
    ),
    partOrder: fc.constantFrom('purpose-first', 'file-first', 'file-only', 'purpose-only', 'two-files', 'extra-field', 'truncated'),
  })
  .map(({ boundary, purpose, filename, fileType, lines, partOrder }) => {
    const file = Buffer.from(lines.join('\n'));
    const purposePart = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n`);
    const filePart = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n${fileType ? `Content-Type: ${fileType}\r\n` : ''}\r\n`),
      file,
      Buffer.from('\r\n'),
    ]);
    const extra = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${filename}"\r\n\r\nvalue\r\n`);
    const end = Buffer.from(`--${boundary}--\r\n`);
    const parts: Record<string, Buffer[]> = {
      'purpose-first': [purposePart, filePart, end],
      'file-first': [filePart, purposePart, end],
      'file-only': [filePart, end],
      'purpose-only': [purposePart, end],
      'two-files': [purposePart, filePart, filePart, end],
      'extra-field': [purposePart, extra, filePart, end],
      truncated: [purposePart, filePart.subarray(0, Math.floor(filePart.length / 2))],
    };
    return { body: Buffer.concat(parts[partOrder]!), contentType: `multipart/form-data; boundary=${boundary.includes(' ') ? `"${boundary}"` : boundary}` };
  });

const authArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant('project' as const) },
  { weight: 1, arbitrary: fc.constant('other' as const) },
  { weight: 1, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Basic abc', 'Bearer gq_' + 'x'.repeat(300), 'bearer\u00ffkey', 'Bearer a b').map((raw) => ({ raw })) },
);

function requestArb(ids: Ids): fc.Arbitrary<FuzzRequest> {
  const jobs = jobBody(ids);
  const get = (paths: fc.Arbitrary<string>, auth: fc.Arbitrary<FuzzRequest['auth']> = authArb, accept = 'application/json') =>
    fc.tuple(paths, fc.oneof(queryString, rawQuery), auth).map(([p, q, a]): FuzzRequest => ({ method: 'GET', path: p + q, auth: a, headers: { accept } }));
  return fc.oneof(
    // submissions: real shapes, mutated
    {
      weight: 14,
      arbitrary: fc
        .record({ body: mutated(jobs), auth: authArb, type: contentType, key: fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), nastyString), { nil: undefined }) })
        .map(({ body, auth, type, key }): FuzzRequest => ({
          method: 'POST',
          path: '/v1/jobs',
          auth,
          headers: { 'content-type': type, ...(key === undefined || /[\r\n\u0000]|[^\x00-\xff]/.test(key) ? {} : { 'idempotency-key': key }) },
          body: jsonBody(body),
          creates: 'job',
        })),
    },
    {
      weight: 4,
      arbitrary: fc
        .record({ jobs: fc.array(mutated(jobs), { minLength: 0, maxLength: 6 }), wrap: mutation, auth: authArb })
        .map(({ jobs: list, wrap, auth }): FuzzRequest => ({ method: 'POST', path: '/v1/jobs/bulk', auth, headers: { 'content-type': 'application/json' }, body: jsonBody(mutate({ jobs: list }, [wrap])), creates: 'jobs' })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ body: brokenJson, route: fc.constantFrom('/v1/jobs', '/v1/jobs/bulk', '/v1/webhook-endpoints', '/admin/v1/projects', '/admin/v1/jobs'), type: contentType })
        .map(({ body, route, type }): FuzzRequest => ({ method: 'POST', path: route, auth: route.startsWith('/admin') ? 'admin' : 'project', headers: { 'content-type': type }, body })),
    },
    // reads with fuzzed ids and queries
    { weight: 4, arbitrary: get(fc.constant('/v1/jobs')) },
    { weight: 3, arbitrary: get(jobId(ids).map((id) => `/v1/jobs/${id}`)) },
    { weight: 3, arbitrary: get(jobId(ids).map((id) => `/v1/jobs/${id}/events`)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(jobId(ids), fc.oneof(nastyString, fc.constantFrom('1', '0', '-1', '999999999', '1e3', 'evt_x')))
        .map(([id, last]): FuzzRequest => ({ method: 'GET', path: `/v1/jobs/${id}/events`, auth: 'project', headers: { accept: 'text/event-stream', ...(/[\r\n\u0000]|[^\x00-\xff]/.test(last) ? {} : { 'last-event-id': last }) } })),
    },
    { weight: 2, arbitrary: get(fc.oneof(fc.constant('/v1/files/file_00000000000000000000000000'), nastyString.map((s) => `/v1/files/${pct(s)}`), fc.constantFrom(...ids.fileIds.map((id) => `/v1/files/${id}`), '/v1/files/x'))) },
    { weight: 2, arbitrary: get(fc.oneof(fc.constant('/v1/artifacts/art_00000000000000000000000000/content'), nastyString.map((s) => `/v1/artifacts/${pct(s)}/content`))) },
    { weight: 2, arbitrary: get(fc.constantFrom('/v1/webhook-endpoints', '/v1/webhook-deliveries', '/v1/webhook-deliveries/whd_00000000000000000000000000', '/v1/webhook-secret')) },
    { weight: 2, arbitrary: get(fc.constantFrom('/admin/v1/jobs', '/admin/v1/jobs/count', '/admin/v1/webhook-deliveries', '/admin/v1/webhook-endpoints', '/admin/v1/projects', '/admin/v1/stats', '/admin/v1/admin-keys', '/admin/v1/jobs/job_00000000000000000000000000/attempts', '/admin/v1/bulk-actions/x'), fc.constant('admin' as const)) },
    { weight: 1, arbitrary: get(fc.constantFrom('/v1/nothing', '/v2/jobs', '/v1/jobs/%E0%A4%A', '/admin/v1/nothing', '/healthz', '/readyz', '/openapi.json', '/metrics')) },
    // uploads
    {
      weight: 5,
      arbitrary: fc.tuple(multipart, authArb).map(([m, auth]): FuzzRequest => ({ method: 'POST', path: '/v1/files', auth, headers: { 'content-type': m.contentType }, body: m.body, creates: 'file' })),
    },
    // actions on known and unknown ids
    {
      weight: 3,
      arbitrary: fc
        .tuple(jobId(ids), fc.constantFrom('cancel', 'retry'), authArb)
        .map(([id, action, auth]): FuzzRequest => ({ method: 'POST', path: `/v1/jobs/${id}/${action}`, auth, headers: { 'content-type': 'application/json' }, body: '{}' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.oneof(fc.constantFrom('/v1/files/', '/v1/webhook-endpoints/'), fc.constant('/admin/v1/api-keys/')), nastyString)
        .map(([base, id]): FuzzRequest => ({ method: 'DELETE', path: base + pct(id || 'x'), auth: base.startsWith('/admin') ? 'admin' : 'project' })),
    },
    // webhook endpoints: real shapes, mutated
    {
      weight: 3,
      arbitrary: fc.tuple(mutated(fromSchema(jsonSchemaOf(CreateEndpointSchema))), authArb).map(([body, auth]): FuzzRequest => ({ method: 'POST', path: '/v1/webhook-endpoints', auth, headers: { 'content-type': 'application/json' }, body: jsonBody(body), creates: 'endpoint' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('/v1/webhook-endpoints/wep_00000000000000000000000000/rotate-secret', '/v1/webhook-deliveries/whd_00000000000000000000000000/redeliver', '/v1/webhook-secret/rotate-x', '/admin/v1/webhook-deliveries/x/redeliver', '/admin/v1/webhook-endpoints/x/enable'), nastyValue)
        .map(([p, body]): FuzzRequest => ({ method: 'POST', path: p, auth: p.startsWith('/admin') ? 'admin' : 'project', headers: { 'content-type': 'application/json' }, body: jsonBody(body) })),
    },
    // admin writes: projects, keys, jobs for a project, bulk actions (mutated bodies)
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('/admin/v1/projects', '/admin/v1/admin-keys', '/admin/v1/projects/prj_00000000000000000000000000/api-keys', '/admin/v1/jobs/bulk-cancel', '/admin/v1/jobs/bulk-retry', '/admin/session'),
          mutated(fc.record({ name: fc.string({ maxLength: 20 }), limits: fc.record({ requests_per_minute: fc.integer(), max_running_jobs: fc.integer() }), filter: fc.record({ status: fc.constantFrom('queued', 'x') }), key: fc.string() }, { requiredKeys: [] })),
        )
        .map(([p, body]): FuzzRequest => ({ method: 'POST', path: p, auth: 'admin', headers: { 'content-type': 'application/json' }, body: jsonBody(body) })),
    },
    {
      weight: 2,
      arbitrary: mutated(jobs).map((body): FuzzRequest => ({
        method: 'POST',
        path: '/admin/v1/jobs',
        auth: 'admin',
        headers: { 'content-type': 'application/json' },
        body: jsonBody(body && typeof body === 'object' && !Array.isArray(body) ? { ...body, project_id: FUZZ_PROJECT.id } : body),
        creates: 'job',
      })),
    },
    {
      weight: 1,
      arbitrary: mutated(fc.record({ name: fc.string({ maxLength: 20 }), limits: fc.record({ requests_per_minute: fc.constant(null), max_running_jobs: fc.integer() }) })).map((body): FuzzRequest => ({
        method: 'PATCH',
        path: '/admin/v1/projects/prj_00000000000000000000000000',
        auth: 'admin',
        headers: { 'content-type': 'application/json' },
        body: jsonBody(body),
      })),
    },
  );
}

/** The project every fuzzed request acts for (set once the stack runs; the admin job route names it). */
const FUZZ_PROJECT: Project = { id: '', key: '' };

// ---------------------------------------------------------------------------------------------

describe('fuzzing every route and job type', () => {
  let stack: TestStack;
  let other: Project;
  const ids: Ids = { fileIds: [], jobIds: [], otherFileId: 'file_00000000000000000000000000' };
  /** what accepted requests created */
  const created = { jobs: new Set<string>(), files: new Set<string>(), endpoints: new Set<string>() };
  const failures: string[] = [];
  let sent = 0;

  // No worker: accepted jobs stay queued, so the queue must hold exactly the accepted ones.
  useStack(
    async (ready) => {
      stack = ready;
      const limits = { requests_per_minute: 1_000_000, jobs_per_minute: 10_000_000 };
      Object.assign(FUZZ_PROJECT, await ready.createProject(limits));
      other = await ready.createProject(limits);
      // a real batch file of each project, so file_id inputs sometimes name one
      for (const [project, name] of [[FUZZ_PROJECT, 'own'], [other, 'other']] as const) {
        const form = new FormData();
        form.append('purpose', 'batch');
        form.append('file', new Blob(['{"custom_id": "a", "input": "x"}\n']), `${name}.jsonl`);
        const res = await ready.api.post('/v1/files', { key: project.key, rawBody: form });
        if (res.status !== 201) throw new Error(`setup upload: ${res.status} ${res.text}`);
        if (project === other) ids.otherFileId = res.body.id;
        else {
          ids.fileIds.push(res.body.id);
          created.files.add(res.body.id);
        }
      }
      for (let i = 0; i < 3; i += 1) {
        const res = await ready.api.post('/v1/jobs', { key: FUZZ_PROJECT.key, body: { type: 'mj.imagine', input: { prompt: `seed job ${i}` } } });
        ids.jobIds.push(res.body.id);
        created.jobs.add(res.body.id);
      }
      created.files.add(ids.otherFileId);
    },
    {
      withoutWorker: true,
      env: { ARTIFACT_REQUESTS_PER_MINUTE: '1000000', MAX_STREAMS_PER_PROJECT: '1000', MAX_WAITS_PER_PROJECT: '1000' },
    },
  );

  const authorization = (auth: FuzzRequest['auth']): string | undefined => {
    if (auth === 'none') return undefined;
    if (typeof auth === 'object') return auth.raw;
    return `Bearer ${auth === 'admin' ? stack.adminKey : auth === 'other' ? other.key : FUZZ_PROJECT.key}`;
  };

  /** CONCURRENCY keep-alive connections, closed after 2 s idle (before the server's 5 s keepAliveTimeout) */
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 2_000, keepAliveMaxTimeout: 2_000 });
  afterAll(async () => {
    await agent.close();
  });

  /** undici refused to send it (a header value it will not write): not a request the API saw */
  const unsendable = (err: unknown): boolean => (err as { cause?: { code?: string } }).cause?.code === 'UND_ERR_INVALID_ARG' || (err as { code?: string }).code === 'UND_ERR_INVALID_ARG';

  async function send(request: FuzzRequest): Promise<Answer | null> {
    try {
      return await sendOnce(request);
    } catch (err) {
      if (unsendable(err)) return null;
      throw err;
    }
  }

  async function sendOnce(request: FuzzRequest): Promise<Answer> {
    const headers: Record<string, string> = { ...request.headers };
    const auth = authorization(request.auth);
    if (auth !== undefined) headers['authorization'] = auth;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const res = await undiciFetch(`${stack.apiUrl}${request.path}`, { method: request.method, headers, body: request.body as never, signal: controller.signal, dispatcher: agent });
      const type = res.headers.get('content-type') ?? '';
      if (type.startsWith('text/event-stream')) {
        // an open stream is a success; it is not read to its end
        await res.body?.cancel();
        return { status: res.status, contentType: type, text: '' };
      }
      return { status: res.status, contentType: type, text: await res.text() };
    } finally {
      clearTimeout(timer);
    }
  }

  const describeRequest = (r: FuzzRequest): string =>
    `${r.method} ${r.path.slice(0, 300)} auth=${typeof r.auth === 'object' ? JSON.stringify(r.auth.raw.slice(0, 40)) : r.auth} headers=${JSON.stringify(r.headers ?? {})} body=${
      r.body === undefined ? '-' : JSON.stringify(r.body.toString().slice(0, 400))
    }`;

  /** Checks one answer; records what it created. Answers a problem, or null. */
  function check(request: FuzzRequest, answer: Answer): string | null {
    if (answer.status >= 500) return `${answer.status} ${answer.text.slice(0, 300)}`;
    if (answer.status >= 400) {
      let body: any;
      try {
        body = JSON.parse(answer.text);
      } catch {
        return `${answer.status} is not JSON: ${answer.text.slice(0, 200)}`;
      }
      const error = body?.error;
      const shaped =
        body && Object.keys(body).length === 1 && error && ERROR_CODES.includes(error.code) && typeof error.message === 'string' && error.message.length > 0 && Array.isArray(error.details);
      return shaped ? null : `${answer.status} without the error shape: ${answer.text.slice(0, 300)}`;
    }
    if (!request.creates || answer.status >= 300) return null;
    const body = JSON.parse(answer.text);
    if (request.creates === 'jobs') {
      for (const item of body.data ?? []) if (item?.id) created.jobs.add(item.id);
    } else if (body?.id) {
      created[request.creates === 'job' ? 'jobs' : request.creates === 'file' ? 'files' : 'endpoints'].add(body.id);
      if (request.creates === 'job' && ids.jobIds.length < 50) ids.jobIds.push(body.id);
      if (request.creates === 'file' && ids.fileIds.length < 20) ids.fileIds.push(body.id);
    }
    return null;
  }

  /** About the size of the request line and headers as sent. */
  const headerBytes = (request: FuzzRequest): number =>
    Buffer.byteLength(request.path) + Object.entries(request.headers ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 4, 0);

  async function sendAll(requests: FuzzRequest[]): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++]!;
        let problem: string | null;
        try {
          const answer = await send(request);
          if (!answer) continue;
          sent += 1;
          problem = check(request, answer);
        } catch (err) {
          sent += 1;
          // Over Node's 16 KiB header limit the server answers 431 and closes at once (its parser
          // cannot go on; fuzz-regressions checks that answer): a client still writing a body sees
          // the reset. That is the HTTP layer's refusal, not a missing answer.
          if (headerBytes(request) > 16 * 1024 && /ECONNRESET|EPIPE/.test(String((err as { cause?: unknown }).cause))) continue;
          problem = `no answer: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`;
        }
        if (problem) failures.push(`${problem}\n    for ${describeRequest(request)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  }

  /**
   * Sends BATCHES_PER_SEED batches from `seed`. Every bad answer is kept (no shrinking against a
   * live server: the requests are listed as they were sent), and the run goes on, so one run shows
   * every kind of failure; the test fails at its end with the first ones.
   */
  const run = async (seed: number): Promise<void> => {
    const before = failures.length;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb(ids), { minLength: BATCH, maxLength: BATCH }), async (requests) => {
        await sendAll(requests);
      }),
      { seed, numRuns: BATCHES_PER_SEED },
    );
    const found = failures.slice(before);
    if (found.length > 0) throw new Error(`${found.length} bad answers (seed ${seed}); the first ones:\n${found.slice(0, 15).join('\n')}`);
  };

  it(`answers every request with a non-5xx in the contract's shape (fixed seed ${FIXED_SEED})`, async () => {
    await run(FIXED_SEED);
  }, 300_000);

  it('answers every request with a non-5xx in the contract’s shape (random seed, printed; FUZZ_SEED replaces it)', async () => {
    // eslint-disable-next-line no-console
    console.log(`fuzz: random seed ${RANDOM_SEED} (rerun with FUZZ_SEED=${RANDOM_SEED})`);
    await run(RANDOM_SEED);
  }, 300_000);

  it('sent at least 10,000 requests, and rejected ones left no row, queue entry or stored file behind', async () => {
    // requests undici would not even send (a header value it refuses) are not counted
    expect(sent).toBeGreaterThanOrEqual(process.env['FUZZ_BATCHES'] ? 1 : 10_000);
    const unexpected = (rows: Array<{ id: string }>, known: Set<string>) => rows.map((r) => r.id).filter((id) => !known.has(id));
    expect(unexpected(await sql<{ id: string }>('SELECT id FROM jobs'), created.jobs)).toEqual([]);
    expect(unexpected(await sql<{ id: string }>('SELECT id FROM files'), created.files)).toEqual([]);
    expect(unexpected(await sql<{ id: string }>('SELECT id FROM webhook_endpoints'), created.endpoints)).toEqual([]);
    expect((await queuedJobIds(stack)).filter((id) => !created.jobs.has(id))).toEqual([]);
    const stored = filesUnder(path.join(String(stack.env['STORAGE_DIR']), 'files'));
    expect(stored.filter((file) => !created.files.has(path.basename(file)))).toEqual([]);
    // and the accepted ones are all there (the ledger is not empty by accident)
    expect(created.jobs.size).toBeGreaterThan(50);
    expect(created.files.size).toBeGreaterThan(3);
  });
});
