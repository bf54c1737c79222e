import type { z } from 'zod';
import type { JobTypeSpec } from './common';
import { IMAGE_JOB_TYPES } from './image';
import { MJ_JOB_TYPES } from './mj';
import { VIDEO_JOB_TYPES } from './video';
import { AUDIO_JOB_TYPES } from './audio';
import { EMBEDDING_JOB_TYPES } from './embedding';

export * from './common';
export * from './image';
export * from './mj';
export * from './video';
export * from './audio';
export * from './embedding';

/**
 * Every job type the service accepts, one entry each (docs/adding-a-job-type.md). A type missing
 * here answers 400 at submission. Kept literal: `JobType`, `JobInput<T>` and the worker's registry
 * are derived from it, so a new entry without a runner does not compile.
 */
export const JOB_TYPES = [...IMAGE_JOB_TYPES, ...VIDEO_JOB_TYPES, ...MJ_JOB_TYPES, ...AUDIO_JOB_TYPES, ...EMBEDDING_JOB_TYPES] as const;

/** The catalog entry of one type (its literal type, family, schema, clocks, task-ness). */
export type JobSpec = (typeof JOB_TYPES)[number];
/** The union of the job type names: `'image.generate' | 'video.generate' | …`. */
export type JobType = JobSpec['type'];
export type JobSpecOf<T extends JobType> = Extract<JobSpec, { type: T }>;
/** Each type's stored input: its schema's output, defaults filled in. */
export type JobInputs = { [S in JobSpec as S['type']]: z.output<S['input']> };
/** The stored input of a job of type `T`. */
export type JobInput<T extends JobType> = JobInputs[T];
/** Types whose jobs are gateway tasks (submit once, then poll): video and MJ. */
export type GatewayTaskType = Extract<JobSpec, { isGatewayTask: true }>['type'];
/** Types whose jobs run one synchronous call (or their own chunks). */
export type SyncJobType = Exclude<JobType, GatewayTaskType>;
export type JobTypesOf<F extends JobSpec['family']> = Extract<JobSpec, { family: F }>['type'];

const BY_TYPE: ReadonlyMap<string, JobTypeSpec<JobType>> = new Map(JOB_TYPES.map((spec) => [spec.type, spec]));

export function isJobType(type: string): type is JobType {
  return BY_TYPE.has(type);
}

export function findJobType(type: string): JobTypeSpec<JobType> | undefined {
  return BY_TYPE.get(type);
}

/** The entry of a known type, typed as that type's (its schema parses into `JobInput<T>`). */
export function jobSpec<T extends JobType>(type: T): JobSpecOf<T> {
  return BY_TYPE.get(type) as JobSpecOf<T>;
}

/** Whether jobs of `type` are gateway tasks (false for an unknown type). */
export function isGatewayTaskType(type: string): type is GatewayTaskType {
  return BY_TYPE.get(type)?.isGatewayTask === true;
}

export const JOB_TYPE_NAMES: readonly JobType[] = JOB_TYPES.map((spec) => spec.type);
