import type { JobError } from '@genqueue/core';

/** Fields a worker may set along with a status change or a running update. */
export type JobPatch = {
  output?: unknown;
  error?: JobError | null;
  progress?: number;
  upstreamTaskId?: string | null;
  upstreamStatus?: string | null;
  upstreamState?: unknown;
  lastProgressAt?: Date;
};
