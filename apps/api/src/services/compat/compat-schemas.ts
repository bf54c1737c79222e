import { z } from 'zod';

/**
 * The answers and request bodies of the compatible routes (docs/compat.md), as zod schemas for
 * `/openapi.json`. The answers are built by mj-tasks.ts, openai-videos.ts and compat-errors.ts;
 * the request bodies are read leniently by them (these schemas document, they do not validate).
 */

const botType = z.enum(['MID_JOURNEY', 'NIJI_JOURNEY']).optional();
const state = z.string().max(255).optional().describe('returned as the task’s state');
const notifyHook = z.string().max(512).optional().describe('the task object is POSTed here on each change of status or progress');
const dataUrl = z.string().describe('an image as a data URL: data:image/png;base64,…');
const taskId = z.string().describe('the id of an earlier task (a genqueue job id)');

export const MjImagineRequestSchema = z.object({ prompt: z.string(), base64Array: z.array(dataUrl).max(5).optional(), botType, state, notifyHook });
export const MjActionRequestSchema = z.object({ taskId, customId: z.string().describe('one of that task’s buttons[].customId'), state, notifyHook });
export const MjBlendRequestSchema = z.object({
  base64Array: z.array(dataUrl).min(2).max(5),
  dimensions: z.enum(['PORTRAIT', 'SQUARE', 'LANDSCAPE']).optional(),
  botType,
  state,
  notifyHook,
});
export const MjDescribeRequestSchema = z.object({ base64: dataUrl.optional(), link: z.string().optional().describe('an http(s) URL of the image, instead of base64'), botType, state, notifyHook });
export const MjModalRequestSchema = z.object({ taskId, prompt: z.string().optional(), maskBase64: dataUrl.optional(), state, notifyHook });

export const MjSubmitResultSchema = z.object({
  code: z.literal(1),
  description: z.string(),
  result: z.string().describe('the task id (the genqueue job id)'),
  properties: z.object({ genqueueJobId: z.string() }),
});

export const MjTaskSchema = z.object({
  id: z.string(),
  action: z.string(),
  customId: z.string(),
  botType: z.string(),
  prompt: z.string(),
  promptEn: z.string(),
  description: z.string(),
  state: z.string(),
  submitTime: z.number(),
  startTime: z.number().nullable(),
  finishTime: z.number().nullable(),
  imageUrl: z.string().describe('a signed link to the stored image once SUCCESS, else ""'),
  videoUrl: z.string(),
  status: z.enum(['NOT_START', 'SUBMITTED', 'IN_PROGRESS', 'MODAL', 'SUCCESS', 'FAILURE', 'CANCEL']),
  progress: z.string().describe('"0%" … "100%"'),
  failReason: z.string(),
  buttons: z.array(z.object({ customId: z.string(), emoji: z.string(), label: z.string(), type: z.number(), style: z.number() })),
  maskBase64: z.string(),
  properties: z.record(z.string(), z.unknown()),
});
export const MjTaskListSchema = z.array(MjTaskSchema);
export const MjListByConditionSchema = z.object({ ids: z.array(z.string().max(64)).max(500, 'at most 500 ids').optional() });
export const MjImageSeedSchema = z.object({ code: z.literal(1), description: z.string(), result: z.string() });
export const MjErrorSchema = z.object({
  code: z.number().describe('4 validation or refused, 3 not found, 23 rate limited, 9 unavailable'),
  description: z.string(),
  result: z.null(),
  properties: z.object({
    error_code: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const OpenAiVideoCreateSchema = z.object({
  prompt: z.string(),
  model: z.string().optional().describe('Default: "sora-2"'),
  seconds: z.string().optional().describe('Default: "4"'),
  size: z.string().optional().describe('Default: "720x1280"'),
  input_reference: z.union([z.string(), z.object({ image_url: z.string() })]).optional().describe('an http(s) or data URL (multipart: a file part)'),
});
export const OpenAiVideoRemixSchema = z.object({ prompt: z.string() });
export const OpenAiVideoSchema = z.object({
  id: z.string(),
  object: z.literal('video'),
  model: z.string(),
  status: z.enum(['queued', 'in_progress', 'completed', 'failed']),
  progress: z.number(),
  created_at: z.number(),
  completed_at: z.number().nullable(),
  expires_at: z.number().nullable(),
  prompt: z.string(),
  size: z.string(),
  seconds: z.string(),
  quality: z.string(),
  remixed_from_video_id: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export const OpenAiErrorSchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});
