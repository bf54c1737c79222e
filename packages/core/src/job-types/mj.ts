import { z } from 'zod';
import { idSchema } from '../ids';
import { MediaSourceSchema } from '../media-source';
import { promptSchema, type JobClocks, type JobTypeSpec } from './common';

/** The gateway gives up on an MJ task after 1 h (MODAL ones too); we allow a little more. */
export const MJ_CLOCKS: JobClocks = { ttlSec: 86_400, inactivitySec: 1_800, deadlineSec: 3_900 };

const jobIdSchema = idSchema('job', 'a job id');
const botTypeSchema = z.enum(['MID_JOURNEY', 'NIJI_JOURNEY']);

export const MjImagineInputSchema = z.strictObject({
  prompt: promptSchema.max(8_000),
  images: z.array(MediaSourceSchema).max(5).optional(),
  bot_type: botTypeSchema.optional(),
  /** also read the image's seed (`GET /mj/task/{id}/image-seed`) into `output.seed` */
  seed: z.boolean().optional(),
});
export type MjImagineInput = z.infer<typeof MjImagineInputSchema>;

export const MjActionInputSchema = z.strictObject({
  /** an earlier, succeeded MJ job of the same project (checked at submission) */
  job_id: jobIdSchema,
  /** one of that job's `output.buttons[].custom_id` (checked at submission) */
  custom_id: z.string().min(1).max(512),
  /** also read the image's seed into `output.seed` */
  seed: z.boolean().optional(),
});
export type MjActionInput = z.infer<typeof MjActionInputSchema>;

export const MjModalInputSchema = z.strictObject({
  /** the job whose upstream task waits in MODAL */
  job_id: jobIdSchema,
  prompt: promptSchema.max(8_000).optional(),
  mask: MediaSourceSchema.optional(),
});
export type MjModalInput = z.infer<typeof MjModalInputSchema>;

export const MjBlendInputSchema = z.strictObject({
  images: z.array(MediaSourceSchema).min(2, 'needs 2 to 5 images').max(5, 'needs 2 to 5 images'),
  dimensions: z.enum(['PORTRAIT', 'SQUARE', 'LANDSCAPE']).optional(),
  bot_type: botTypeSchema.optional(),
});
export type MjBlendInput = z.infer<typeof MjBlendInputSchema>;

export const MjDescribeInputSchema = z.strictObject({
  image: MediaSourceSchema,
  bot_type: botTypeSchema.optional(),
});
export type MjDescribeInput = z.infer<typeof MjDescribeInputSchema>;

/**
 * The upstream status of an MJ task that waits for a modal submit (Vary Region, custom zoom, remix):
 * the worker shows it, the API lets an `mj.modal` job continue only a parent in it.
 */
export const MJ_MODAL_STATUS = 'MODAL';

/** MJ job types whose result carries an image and buttons (a parent for `mj.action`). */
export const MJ_IMAGE_JOB_TYPES: readonly string[] = ['mj.imagine', 'mj.action', 'mj.modal', 'mj.blend'];

export const MJ_JOB_TYPES = [
  { type: 'mj.imagine', family: 'mj', input: MjImagineInputSchema, clocks: MJ_CLOCKS, isGatewayTask: true },
  { type: 'mj.action', family: 'mj', input: MjActionInputSchema, clocks: MJ_CLOCKS, isGatewayTask: true },
  { type: 'mj.modal', family: 'mj', input: MjModalInputSchema, clocks: MJ_CLOCKS, isGatewayTask: true },
  { type: 'mj.blend', family: 'mj', input: MjBlendInputSchema, clocks: MJ_CLOCKS, isGatewayTask: true },
  { type: 'mj.describe', family: 'mj', input: MjDescribeInputSchema, clocks: MJ_CLOCKS, isGatewayTask: true },
] as const satisfies readonly JobTypeSpec[];
