import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { GroupCommit, JOB_FAMILIES, KeyedGroupCommits, type JobFamily } from '@genqueue/core';
import { assertRedisReady } from './redis';
import { assignFairPriorities } from './fair-share';
import { JITTER_BACKOFF, JobRefSchema, MAINTENANCE_QUEUE, queueNameFor, queueOptions, queuePrefix } from './catalog';

/** `projectId` places the job in its lane's fair share (required, so no enqueue path can forget it). */
export type EnqueueOptions = {
  projectId: string;
  priority?: number;
  delayMs?: number;
  maxAttempts: number;
  backoffDelayMs: number;
  /** the API request that submitted or retried the job (its worker's log lines carry it) */
  requestId?: string;
};

function jobOptions(jobId: string, options: EnqueueOptions) {
  return {
    jobId,
    priority: options.priority,
    delay: options.delayMs,
    attempts: options.maxAttempts,
    backoff: { type: JITTER_BACKOFF, delay: options.backoffDelayMs },
  };
}

export type FairSharing = {
  /** FAIR_SHARING: off, jobs keep their user priority alone (FIFO within it) */
  isEnabled: boolean;
  /** a project's `limits.weight` (1 when unset) */
  weightOf: (projectId: string) => Promise<number>;
};

type QueuedJob = { jobId: string; options: EnqueueOptions };
/** A job to add, its payload already checked (JobRefSchema). */
type CheckedJob = QueuedJob & { data: unknown };

/** The job's queue payload; throws for a payload that is no job reference. */
const payloadOf = ({ jobId, options }: QueuedJob): unknown => JobRefSchema.parse({ jobId, ...(options.requestId ? { requestId: options.requestId } : {}) });

/** Most jobs one grouped add carries (one fair-share call and one addBulk). */
const MAX_JOBS_PER_ADD = 500;

/**
 * Producer side of the job queues: one BullMQ Queue per family, sharing one connection. Jobs
 * enqueued one by one while an add of their family is in flight go together in the next one
 * (GroupCommit): under concurrent submissions one fair-share call and one addBulk carry many jobs,
 * where each job alone cost two round trips.
 */
export class JobQueues {
  private readonly queues = new Map<JobFamily, Queue>();
  private readonly adds: KeyedGroupCommits<CheckedJob, void>;
  readonly maintenance: Queue;

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    /** Redis outages surface here (and as failed calls); without a listener BullMQ prints them raw */
    onError: (err: Error) => void = () => undefined,
    /** lanes shared between projects by weight (fair-share.ts); every project weighs 1 unless told */
    private readonly fairSharing: FairSharing = { isEnabled: true, weightOf: async () => 1 },
  ) {
    for (const family of JOB_FAMILIES) {
      const name = queueNameFor(family);
      this.queues.set(family, new Queue(name, queueOptions(connection, prefix, name)));
    }
    this.maintenance = new Queue(MAINTENANCE_QUEUE, queueOptions(connection, prefix, MAINTENANCE_QUEUE));
    for (const queue of [...this.queues.values(), this.maintenance]) queue.on('error', onError);
    this.adds = new KeyedGroupCommits(
      (family) =>
        new GroupCommit<CheckedJob, void>({
          runBatch: async (jobs) => {
            await this.addChecked(family as JobFamily, jobs);
            return jobs.map(() => undefined);
          },
          maxBatch: MAX_JOBS_PER_ADD,
          maxInFlight: 2,
          // the same job twice in one add would advance its project's fair share twice
          keyOf: (job) => job.jobId,
        }),
    );
  }

  queue(family: JobFamily): Queue {
    const queue = this.queues.get(family);
    if (!queue) throw new Error(`no queue for family ${family}`);
    return queue;
  }

  /** Adds the job under its row id; adding an id that is still in Redis does nothing. */
  async enqueue(family: JobFamily, jobId: string, options: EnqueueOptions): Promise<void> {
    assertRedisReady(this.connection);
    // a payload that is no job reference fails here, alone, before it joins an add
    const data = payloadOf({ jobId, options });
    await this.adds.run(family, { jobId, options, data });
  }

  /** `enqueue` for many jobs of one family in one round trip. */
  async enqueueMany(family: JobFamily, jobs: readonly QueuedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    assertRedisReady(this.connection);
    await this.addChecked(
      family,
      jobs.map((job) => ({ ...job, data: payloadOf(job) })),
    );
  }

  /** One fair-share call and one addBulk for jobs whose payloads are checked. */
  private async addChecked(family: JobFamily, jobs: readonly CheckedJob[]): Promise<void> {
    const fair = await this.fairOptions(family, jobs.map((j) => j.options));
    await this.queue(family).addBulk(jobs.map(({ jobId, data }, i) => ({ name: family, data, opts: jobOptions(jobId, fair[i]!) })));
  }

  /**
   * The options with each job's place in its lane's fair share as its BullMQ priority (its user
   * priority's band, then its project's virtual finish time). A job already in Redis keeps its
   * place (its `add` is a no-op); the finish time it was given is a small advance of its project.
   */
  private async fairOptions(family: JobFamily, options: readonly EnqueueOptions[]): Promise<EnqueueOptions[]> {
    if (!this.fairSharing.isEnabled) return [...options];
    const weights = new Map<string, number>();
    for (const { projectId } of options) if (!weights.has(projectId)) weights.set(projectId, await this.fairSharing.weightOf(projectId));
    const queue = this.queue(family);
    const priorities = await assignFairPriorities(
      this.connection,
      queue.opts.prefix ?? queuePrefix(this.prefix, queue.name),
      queue.name,
      options.map((o) => ({ projectId: o.projectId, priority: o.priority ?? 5, weight: weights.get(o.projectId) ?? 1 })),
    );
    return options.map((o, i) => ({ ...o, priority: priorities[i]! }));
  }

  /**
   * Takes a job that no worker holds out of Redis; false when a worker holds it (that worker then
   * sees the row's status and stops).
   */
  async removeIfIdle(family: JobFamily, jobId: string): Promise<boolean> {
    try {
      return (await this.queue(family).remove(jobId)) === 1;
    } catch {
      return false;
    }
  }

  /** Whether the connection is up now (a command would not wait in ioredis' offline queue). */
  isConnected(): boolean {
    return this.connection.status === 'ready';
  }

  /**
   * Whether Redis holds live work for the job. A finished leftover entry (completed or failed)
   * is removed, so that adding the id again is not a silent no-op. Throws at once while Redis is down.
   */
  async isLive(family: JobFamily, jobId: string): Promise<boolean> {
    assertRedisReady(this.connection);
    const queue = this.queue(family);
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      await queue.remove(jobId);
      return false;
    }
    return state !== 'unknown';
  }

  async depths(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [family, queue] of this.queues) {
      out[family] = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values(), this.maintenance].map((q) => q.close()));
  }
}
