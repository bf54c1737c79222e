import { z } from 'zod';
import {
  MjActionRequestSchema,
  MjBlendRequestSchema,
  MjDescribeRequestSchema,
  MjErrorSchema,
  MjImageSeedSchema,
  MjImagineRequestSchema,
  MjListByConditionSchema,
  MjModalRequestSchema,
  MjSubmitResultSchema,
  MjTaskListSchema,
  MjTaskSchema,
  OpenAiErrorSchema,
  OpenAiVideoCreateSchema,
  OpenAiVideoRemixSchema,
  OpenAiVideoSchema,
} from '../services/compat/compat-schemas';

/** The shapes of operations.ts's `Operation` and `ResponseSpec` these need (not imported: operations.ts imports this file). */
type ResponseSpec = { description: string; json?: z.ZodType; other?: Record<string, Record<string, unknown>> };
type Operation = {
  method: 'get' | 'post';
  path: string;
  summary: string;
  access: 'key';
  query?: z.ZodObject;
  headers?: Array<{ name: string; description: string; schema: z.ZodType }>;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
};

/*
 * The drop-in compatible routes (docs/compat.md). They answer errors in their own API's shape
 * (midjourney-proxy's result, OpenAI's error), so every error status names that shape instead of
 * genqueue's Error.
 */

export const COMPAT_RESPONSE_COMPONENTS: Record<string, z.ZodType> = {
  MjSubmitResult: MjSubmitResultSchema,
  MjTask: MjTaskSchema,
  MjTaskList: MjTaskListSchema,
  MjImageSeed: MjImageSeedSchema,
  MjError: MjErrorSchema,
  OpenAiVideo: OpenAiVideoSchema,
  OpenAiError: OpenAiErrorSchema,
};

const STATUSES = [400, 401, 403, 404, 409, 413, 429, 503] as const;

function withErrors(ok: Record<number, ResponseSpec>, error: z.ZodType, shape: string): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = { ...ok };
  for (const status of STATUSES) responses[status] = { description: `refused, in ${shape}`, json: error };
  return responses;
}

const mj = (ok: Record<number, ResponseSpec>) => withErrors(ok, MjErrorSchema, 'midjourney-proxy’s result shape');
const openAi = (ok: Record<number, ResponseSpec>) => withErrors(ok, OpenAiErrorSchema, 'OpenAI’s error shape');

const mjAccess = 'key' as const;
const SUBMITS = [
  ['imagine', 'mj.imagine', MjImagineRequestSchema],
  ['action', 'mj.action (an earlier task’s button)', MjActionRequestSchema],
  ['blend', 'mj.blend', MjBlendRequestSchema],
  ['describe', 'mj.describe', MjDescribeRequestSchema],
  ['modal', 'mj.modal (a task waiting in MODAL)', MjModalRequestSchema],
] as const;

const idempotencyHeader = (schema: z.ZodType) => ({
  name: 'Idempotency-Key',
  description: 'the same key and request within 24 h answer the same task; another request with it answers 409',
  schema,
});

/** The compat operations; `idempotencyKey` is the header schema of /v1/jobs. */
export function compatOperations(idempotencyKey: z.ZodType): Operation[] {
  return [
    ...SUBMITS.map(
      ([kind, job, body]): Operation => ({
        method: 'post',
        path: `/mj/submit/${kind}`,
        summary: `midjourney-proxy: submit a ${job} job; the key as Bearer or mj-api-secret (docs/compat.md)`,
        access: mjAccess,
        headers: [idempotencyHeader(idempotencyKey)],
        body,
        responses: mj({ 200: { description: 'Submitted: result is the task id (the job id)', json: MjSubmitResultSchema } }),
      }),
    ),
    { method: 'get', path: '/mj/task/{id}/fetch', summary: 'midjourney-proxy: the task object of a job', access: mjAccess, responses: mj({ 200: { description: 'The task', json: MjTaskSchema } }) },
    {
      method: 'post',
      path: '/mj/task/list-by-condition',
      summary: 'midjourney-proxy: the tasks of the given ids, in order; unknown ids are left out',
      access: mjAccess,
      body: MjListByConditionSchema,
      responses: mj({ 200: { description: 'The tasks', json: MjTaskListSchema } }),
    },
    {
      method: 'get',
      path: '/mj/task/{id}/image-seed',
      summary: 'midjourney-proxy: the image seed of a succeeded imagine or action task',
      access: mjAccess,
      responses: mj({ 200: { description: 'The seed', json: MjImageSeedSchema } }),
    },
    {
      method: 'post',
      path: '/v1/videos',
      summary: 'OpenAI video API: create a video (a video.generate job), JSON or multipart with an input_reference file (docs/compat.md)',
      access: 'key',
      headers: [idempotencyHeader(idempotencyKey)],
      body: OpenAiVideoCreateSchema,
      responses: openAi({ 200: { description: 'The Video object (queued)', json: OpenAiVideoSchema } }),
    },
    {
      method: 'post',
      path: '/v1/videos/{id}/remix',
      summary: 'OpenAI video API: remix a completed video with a new prompt (a video.remix job; docs/compat.md)',
      access: 'key',
      headers: [idempotencyHeader(idempotencyKey)],
      body: OpenAiVideoRemixSchema,
      responses: openAi({ 200: { description: 'The new Video object (queued)', json: OpenAiVideoSchema } }),
    },
    { method: 'get', path: '/v1/videos/{id}', summary: 'OpenAI video API: the Video object of a job', access: 'key', responses: openAi({ 200: { description: 'The Video object', json: OpenAiVideoSchema } }) },
    {
      method: 'get',
      path: '/v1/videos/{id}/content',
      summary: 'OpenAI video API: the stored mp4 of a completed video (Range supported); ?variant=video only',
      access: 'key',
      query: z.object({ variant: z.enum(['video']).optional() }),
      responses: openAi({
        200: { description: 'The video', other: { 'video/mp4': { type: 'string', contentMediaType: 'video/mp4' } } },
        206: { description: 'The requested range', other: { 'video/mp4': { type: 'string', contentMediaType: 'video/mp4' } } },
      }),
    },
  ];
}
