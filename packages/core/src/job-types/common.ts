import { z } from 'zod';

/** Which queue (and upstream lane) a job type runs on. WARNING: queue names derive from these; persisted. */
export const JOB_FAMILIES = ['image', 'video', 'mj', 'audio', 'embedding'] as const;
export type JobFamily = (typeof JOB_FAMILIES)[number];

export type JobClocks = {
  /** never started within this → expired */
  ttlSec: number;
  /** no upstream progress for this long → failed (upstream_timeout) */
  inactivitySec: number;
  /** running for this long → failed (upstream_timeout) */
  deadlineSec: number;
};

export type JobTypeSpec = {
  type: string;
  family: JobFamily;
  input: z.ZodType;
  clocks: JobClocks;
};

export const promptSchema = z.string().trim().min(1, 'must not be empty').max(32_000);
export const modelSchema = z.string().trim().min(1).max(128);
