import { z } from 'zod';
import { idSchema } from '../ids';
import { MediaSourceSchema } from '../media-source';
import { ownValue } from '../own-value';
import { modelSchema, promptSchema, type JobClocks, type JobTypeSpec } from './common';

/** Video tasks run minutes upstream; the gateway shows progress only every ~15 s. */
export const VIDEO_CLOCKS: JobClocks = { ttlSec: 86_400, inactivitySec: 600, deadlineSec: 1_800 };

/** What each known model takes (docs/gateway.md §8.1); other video models take 1–60 s and any WxH size. */
export const VIDEO_MODEL_LIMITS: Record<string, { seconds: readonly string[]; sizes: readonly string[] }> = {
  'sora-2': { seconds: ['4', '8', '12'], sizes: ['720x1280', '1280x720'] },
  'sora-2-pro': { seconds: ['4', '8', '12'], sizes: ['720x1280', '1280x720', '1792x1024', '1024x1792'] },
};

const secondsSchema = z.union([z.string().trim().regex(/^\d{1,3}$/, 'must be a whole number of seconds'), z.int().min(1).max(600)]).transform(String);

export const VideoGenerateInputSchema = z
  .strictObject({
    prompt: promptSchema,
    model: modelSchema.default('sora-2'),
    seconds: secondsSchema.default('4'),
    size: z.string().regex(/^\d{2,5}x\d{2,5}$/, 'must look like 1280x720').default('720x1280'),
    input_reference: MediaSourceSchema.optional(),
  })
  .superRefine((input, ctx) => {
    const limits = ownValue(VIDEO_MODEL_LIMITS, input.model);
    if (limits) {
      if (!limits.seconds.includes(input.seconds)) {
        ctx.addIssue({ code: 'custom', path: ['seconds'], message: `${input.model} takes seconds ${limits.seconds.map((s) => `"${s}"`).join(', ')}` });
      }
      if (!limits.sizes.includes(input.size)) {
        ctx.addIssue({ code: 'custom', path: ['size'], message: `${input.model} takes size ${limits.sizes.join(', ')}` });
      }
    } else if (Number(input.seconds) < 1 || Number(input.seconds) > 60) {
      ctx.addIssue({ code: 'custom', path: ['seconds'], message: 'must be between 1 and 60' });
    }
  });
export type VideoGenerateInput = z.infer<typeof VideoGenerateInputSchema>;

export const VideoRemixInputSchema = z.strictObject({
  /** a succeeded `video.generate` or `video.remix` job of the same project (checked at submission) */
  parent_id: idSchema('job', 'a job id'),
  prompt: promptSchema,
});
export type VideoRemixInput = z.infer<typeof VideoRemixInputSchema>;

/** Video job types whose result is a gateway video task (a parent for `video.remix`). */
export const VIDEO_REMIXABLE_JOB_TYPES: readonly string[] = ['video.generate', 'video.remix'];

export const VIDEO_JOB_TYPES = [
  { type: 'video.generate', family: 'video', input: VideoGenerateInputSchema, clocks: VIDEO_CLOCKS, isGatewayTask: true },
  // POST /v1/videos/{id}/remix (docs/gateway.md §8.4): the parent task's model, seconds and size
  { type: 'video.remix', family: 'video', input: VideoRemixInputSchema, clocks: VIDEO_CLOCKS, isGatewayTask: true },
] as const satisfies readonly JobTypeSpec[];
