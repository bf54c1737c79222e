export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled', 'expired'];

/** Every allowed status change. Retrying a failed or canceled job queues it again. */
export const TRANSITIONS = {
  queued: ['running', 'canceled', 'expired', 'failed'],
  running: ['succeeded', 'failed', 'canceled'],
  succeeded: [],
  failed: ['queued'],
  canceled: ['queued'],
  expired: [],
} as const satisfies Record<JobStatus, readonly JobStatus[]>;

export function isFinalStatus(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return (TRANSITIONS[from] as readonly JobStatus[]).includes(to);
}

/** The statuses a job may be in for a change to `to` to be legal. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

export const JOB_EVENT_TYPES = [
  'job.created',
  'job.started',
  'job.progress',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'job.expired',
  'job.retried',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/** The event recorded when a job enters `status`. */
export function eventTypeFor(status: JobStatus, from?: JobStatus): JobEventType {
  switch (status) {
    case 'queued':
      return from === 'failed' || from === 'canceled' ? 'job.retried' : 'job.created';
    case 'running':
      return 'job.started';
    case 'succeeded':
      return 'job.succeeded';
    case 'failed':
      return 'job.failed';
    case 'canceled':
      return 'job.canceled';
    case 'expired':
      return 'job.expired';
  }
}
