import type { JobTypeSpec } from './common';
import { IMAGE_JOB_TYPES } from './image';

export * from './common';
export * from './image';

/** Every job type the service accepts. A type missing here answers 400 at submission. */
export const JOB_TYPES: readonly JobTypeSpec[] = [...IMAGE_JOB_TYPES];

const BY_TYPE = new Map(JOB_TYPES.map((spec) => [spec.type, spec]));

export function findJobType(type: string): JobTypeSpec | undefined {
  return BY_TYPE.get(type);
}

export const JOB_TYPE_NAMES: readonly string[] = JOB_TYPES.map((spec) => spec.type);
