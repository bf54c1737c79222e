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

/** Every job type the service accepts. A type missing here answers 400 at submission. */
export const JOB_TYPES: readonly JobTypeSpec[] = [...IMAGE_JOB_TYPES, ...VIDEO_JOB_TYPES, ...MJ_JOB_TYPES, ...AUDIO_JOB_TYPES, ...EMBEDDING_JOB_TYPES];

const BY_TYPE = new Map(JOB_TYPES.map((spec) => [spec.type, spec]));

export function findJobType(type: string): JobTypeSpec | undefined {
  return BY_TYPE.get(type);
}

export const JOB_TYPE_NAMES: readonly string[] = JOB_TYPES.map((spec) => spec.type);
