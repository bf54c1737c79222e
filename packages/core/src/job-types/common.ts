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

/** One catalog entry; each family file lists its own `as const satisfies readonly JobTypeSpec[]`. */
export type JobTypeSpec<T extends string = string> = {
  type: T;
  family: JobFamily;
  /** parsed at submission (defaults filled in); the stored input is this schema's output */
  input: z.ZodType;
  clocks: JobClocks;
  /**
   * a gateway task: submitted once, then polled while the job is parked (video, MJ); the gateway
   * has no cancel route for these. Otherwise one synchronous call (or the job's own chunks).
   */
  isGatewayTask: boolean;
};

export const promptSchema = z.string().trim().min(1, 'must not be empty').max(32_000);
export const modelSchema = z.string().trim().min(1).max(128);
