import {
  eventTypeFor,
  jobSearchText,
  newId,
  sourcesOf,
  toEventSnapshot,
  type JobError,
  type JobEventType,
  type JobStatus,
} from '@genqueue/core';
import {
  endpointWants,
  generateWebhookSecret,
  isWebhookEventType,
  jobUrlWants,
  PROGRESS_WEBHOOK_MIN_INTERVAL_MS,
} from '@genqueue/webhooks';
import { Prisma, type Job, type JobEvent, type PrismaClient } from '../generated/prisma/client';
import { appendEvent } from './job-snapshot';
import { maxRunningJobsOf } from './projects.repository';
import { asJson, type Db } from './types';
import { WebhooksRepository } from './webhooks.repository';

export type NewJob = {
  projectId: string;
  type: string;
  input: unknown;
  metadata: Record<string, string>;
  priority: number;
  webhookUrl: string | null;
  webhookEvents: string[];
  idempotencyKey: string | null;
  idempotencyHash: string | null;
  parentId: string | null;
  ttlSec: number;
  inactivityTimeoutSec: number;
  deadlineSec: number;
};

export type Change = {
  job: Job;
  event: JobEvent;
  /** pending webhook deliveries written in the same transaction (the outbox); queue them after the commit */
  deliveryIds?: string[];
};

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

function patchData(patch: JobPatch): Prisma.JobUpdateManyMutationInput {
  const data: Prisma.JobUpdateManyMutationInput = {};
  if (patch.output !== undefined) data.output = asJson(patch.output);
  if (patch.error !== undefined) data.error = patch.error === null ? Prisma.DbNull : asJson(patch.error);
  if (patch.progress !== undefined) data.progress = patch.progress;
  if (patch.upstreamTaskId !== undefined) data.upstreamTaskId = patch.upstreamTaskId;
  if (patch.upstreamStatus !== undefined) data.upstreamStatus = patch.upstreamStatus;
  if (patch.upstreamState !== undefined) data.upstreamState = asJson(patch.upstreamState);
  if (patch.lastProgressAt !== undefined) data.lastProgressAt = patch.lastProgressAt;
  return data;
}

/**
 * The outbox step of a change: inside the transaction that wrote `event`, one pending delivery
 * per target that wants it. Costs nothing for job.created/job.retried, and one indexed query of
 * the project's active endpoints otherwise; `job.progress` goes out at most once per 5 s per job.
 */
async function writeOutbox(tx: Db, webhooks: WebhooksRepository, job: Job, event: JobEvent): Promise<string[]> {
  if (!isWebhookEventType(event.type)) return [];
  const endpoints = (await webhooks.listActiveEndpoints(job.projectId, tx)).filter((e) => endpointWants(event.type, e.eventTypes));
  const jobUrl = job.webhookUrl !== null && jobUrlWants(event.type, job.webhookEvents);
  if (!jobUrl && endpoints.length === 0) return [];
  if (event.type === 'job.progress') {
    const recent = await tx.webhookDelivery.findFirst({
      where: { jobId: job.id, eventType: 'job.progress', createdAt: { gt: new Date(Date.now() - PROGRESS_WEBHOOK_MIN_INTERVAL_MS) } },
      select: { id: true },
    });
    if (recent) return [];
  }
  const rows = await webhooks.createDeliveriesForEvent(tx, {
    job,
    event,
    projectWebhookSecret: jobUrl ? generateWebhookSecret() : '',
    endpoints,
  });
  return rows.filter((row) => row.status === 'pending').map((row) => row.id);
}

/** The row of a new queued job (its `job.created` event is seq 1); every create path writes through it. */
function newJobRow(input: NewJob, now: Date) {
  return {
    id: newId('job'),
    projectId: input.projectId,
    type: input.type,
    status: 'queued',
    input: asJson(input.input),
    metadata: asJson(input.metadata),
    priority: input.priority,
    webhookUrl: input.webhookUrl,
    webhookEvents: input.webhookEvents,
    idempotencyKey: input.idempotencyKey,
    idempotencyHash: input.idempotencyHash,
    parentId: input.parentId,
    // what the admin search matches words in, written with the job so a new job is found at once
    searchText: jobSearchText(input.type, input.input),
    eventSeq: 1,
    queueExpiresAt: new Date(now.getTime() + input.ttlSec * 1000),
    ttlSec: input.ttlSec,
    inactivityTimeoutSec: input.inactivityTimeoutSec,
    deadlineSec: input.deadlineSec,
    createdAt: now,
    updatedAt: now,
  } satisfies Prisma.JobCreateManyInput;
}

/**
 * A start refused because the job's project already runs `limits.max_running_jobs` jobs. Nothing
 * was written: the job is still queued, with no event and no attempt counted.
 */
export class RunningLimitReached extends Error {
  override readonly name = 'RunningLimitReached';

  constructor(
    readonly projectId: string,
    readonly maxRunningJobs: number,
  ) {
    super(`project ${projectId} already runs its limit of ${maxRunningJobs} job(s)`);
  }
}

/** What a status change reads of the job first; `maxRunningJobs` is read for starts only. */
type TransitionSource = { status: string; deadlineSec: number; ttlSec: number; projectId: string; maxRunningJobs: number | null };

async function readSource(tx: Db, jobId: string, to: JobStatus): Promise<TransitionSource | null> {
  if (to !== 'running') {
    const job = await tx.job.findUnique({ where: { id: jobId }, select: { status: true, deadlineSec: true, ttlSec: true, projectId: true } });
    return job ? { ...job, maxRunningJobs: null } : null;
  }
  // A start reads its project's limit in the same statement: no extra round trip for projects without one.
  const [row] = await tx.$queryRaw<Array<Omit<TransitionSource, 'maxRunningJobs'> & { limits: unknown }>>`
    SELECT j.status, j.deadline_sec AS "deadlineSec", j.ttl_sec AS "ttlSec", j.project_id AS "projectId", p.limits
      FROM jobs j
      JOIN projects p ON p.id = j.project_id
     WHERE j.id = ${jobId}`;
  return row ? { status: row.status, deadlineSec: row.deadlineSec, ttlSec: row.ttlSec, projectId: row.projectId, maxRunningJobs: maxRunningJobsOf(row.limits) } : null;
}

/**
 * Holds a running slot of a limited project for the start in `tx`, or throws RunningLimitReached.
 * Race-free under READ COMMITTED: starts of one project queue on a transaction-scoped advisory lock,
 * released only after the holder's commit is visible, and the count is a new statement (a new
 * snapshot) run after the lock is granted, so it sees every start committed before. Jobs leaving
 * `running` take no lock: they only lower the count. Projects without a limit never get here.
 */
async function claimRunningSlot(tx: Db, projectId: string, maxRunningJobs: number): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${projectId}, 0))`;
  const running = await tx.job.count({ where: { projectId, status: 'running' } });
  if (running >= maxRunningJobs) throw new RunningLimitReached(projectId, maxRunningJobs);
}

/** More rows written inside a change's transaction, from the changed job (e.g. the attempt log of a failed run). */
export type WriteAlongside = (tx: Db, job: Job) => Promise<unknown>;

/** A row `findStale` answers, and where its next page starts. */
export type StaleJob = Pick<Job, 'id' | 'projectId' | 'type' | 'status' | 'priority' | 'updatedAt'>;
export type StaleCursor = Pick<Job, 'id' | 'updatedAt'>;

export type JobsRepositoryOptions = {
  /** write webhook deliveries with each change (default); off only where a test fans out by hand */
  webhookOutbox?: boolean;
};

/**
 * A bulk insert writes 1,000 jobs and their events (each with indexes and the counts trigger): on a
 * loaded machine that outlasts Prisma's 5 s default for an interactive transaction.
 */
const BULK_TRANSACTION = { maxWait: 10_000, timeout: 60_000 };

export class JobsRepository {
  private readonly webhooks: WebhooksRepository | null;

  constructor(
    private readonly db: PrismaClient,
    options: JobsRepositoryOptions = {},
  ) {
    this.webhooks = options.webhookOutbox === false ? null : new WebhooksRepository(db);
  }

  private outbox(tx: Db, job: Job, event: JobEvent): Promise<string[]> {
    return this.webhooks ? writeOutbox(tx, this.webhooks, job, event) : Promise.resolve([]);
  }

  /**
   * Many new jobs (no idempotency keys: a bulk submission) with their `job.created` events, in one
   * transaction and a few statements instead of a transaction each. In the order given.
   */
  createMany(inputs: readonly NewJob[], now = new Date()): Promise<Change[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    if (inputs.some((input) => input.idempotencyKey !== null)) throw new Error('createMany takes no idempotency keys');
    const rows = inputs.map((input) => newJobRow(input, now));
    return this.db.$transaction(async (tx) => {
      const created = new Map((await tx.job.createManyAndReturn({ data: rows })).map((job) => [job.id, job]));
      const jobs = rows.map((row) => created.get(row.id)!);
      // a new job has no artifacts yet: its snapshot needs no read
      const events = jobs.map((job) => ({ id: newId('evt'), jobId: job.id, projectId: job.projectId, seq: job.eventSeq, type: 'job.created', data: asJson(toEventSnapshot(job, [])) }));
      const stored = new Map((await tx.jobEvent.createManyAndReturn({ data: events })).map((event) => [event.jobId, event]));
      // `job.created` is no webhook event type: no outbox rows
      return jobs.map((job) => ({ job, event: stored.get(job.id)! }));
    }, BULK_TRANSACTION);
  }

  /**
   * Takes back the run counted when a running job was started again, when that run sent nothing
   * (its gateway lane held it back): `attempts` counts runs that tried.
   */
  async returnAttempt(jobId: string): Promise<void> {
    await this.db.job.updateMany({ where: { id: jobId, status: 'running', attempts: { gt: 0 } }, data: { attempts: { decrement: 1 } } });
  }

  /** Inserts the job and its `job.created` event in one transaction. */
  create(input: NewJob, now = new Date()): Promise<Change> {
    return this.db.$transaction(async (tx) => {
      if (input.idempotencyKey) {
        // A key older than its 24 h window is free again: detach it from the old job.
        await tx.job.updateMany({
          where: {
            projectId: input.projectId,
            idempotencyKey: input.idempotencyKey,
            createdAt: { lt: new Date(now.getTime() - 86_400_000) },
          },
          data: { idempotencyKey: null },
        });
      }
      const job = await tx.job.create({ data: newJobRow(input, now) });
      const event = await appendEvent(tx, job, 'job.created');
      return { job, event, deliveryIds: await this.outbox(tx, job, event) };
    });
  }

  findById(id: string): Promise<Job | null> {
    return this.db.job.findUnique({ where: { id } });
  }

  findForProject(projectId: string, id: string): Promise<Job | null> {
    return this.db.job.findFirst({ where: { id, projectId } });
  }

  findByIdempotencyKey(projectId: string, key: string): Promise<Job | null> {
    return this.db.job.findUnique({ where: { projectId_idempotencyKey: { projectId, idempotencyKey: key } } });
  }

  /**
   * Guarded status change: applies only if the job is in a status from which `to` is legal
   * (or in `from`, when given). Writes the event in the same transaction. Null when another actor won.
   * A start (`running`) throws RunningLimitReached when the project already runs its `max_running_jobs`.
   * `alongside` writes more rows in the same transaction, once the job row has changed.
   */
  transition(jobId: string, to: JobStatus, patch: JobPatch = {}, from?: JobStatus[], alongside?: WriteAlongside): Promise<Change | null> {
    const allowed = from ?? sourcesOf(to);
    return this.db.$transaction(async (tx) => {
      const current = await readSource(tx, jobId, to);
      if (!current || !allowed.includes(current.status as JobStatus)) return null;
      if (current.maxRunningJobs !== null) await claimRunningSlot(tx, current.projectId, current.maxRunningJobs);
      const now = new Date();
      const data: Prisma.JobUpdateManyMutationInput = {
        ...patchData(patch),
        status: to,
        eventSeq: { increment: 1 },
        updatedAt: now,
        // a kept result belongs to the run that received it: any status change ends it
        receivedOutput: Prisma.DbNull,
      };
      if (to === 'running') {
        data.startedAt = now;
        data.lastProgressAt = now;
        data.attempts = { increment: 1 };
        data.finishedAt = null;
        data.deadlineAt = new Date(now.getTime() + current.deadlineSec * 1000);
      }
      if (to === 'queued') {
        Object.assign(data, { startedAt: null, finishedAt: null, progress: 0, error: Prisma.DbNull, output: Prisma.DbNull });
        Object.assign(data, { upstreamTaskId: null, upstreamStatus: null, upstreamState: Prisma.DbNull, deadlineAt: null });
        // A retried job gets its queue TTL again, counted from now, and none of the old run's outputs.
        data.queueExpiresAt = new Date(now.getTime() + current.ttlSec * 1000);
        await tx.artifact.updateMany({ where: { jobId }, data: { jobId: null } });
      }
      if (to === 'succeeded' || to === 'failed' || to === 'canceled' || to === 'expired') data.finishedAt = now;
      if (to === 'succeeded') data.progress = 100;
      const [job] = await tx.job.updateManyAndReturn({
        where: { id: jobId, status: current.status },
        data,
      });
      if (!job) return null;
      await alongside?.(tx, job);
      const event = await appendEvent(tx, job, eventTypeFor(to, current.status as JobStatus));
      return { job, event, deliveryIds: await this.outbox(tx, job, event) };
    });
  }

  /**
   * Updates a running job (progress, upstream state); writes an event only when `eventType` is given.
   * With `ifUpstreamState`, only while the stored upstream state is still that value (compare and
   * set: of two runs that read the same state, one writes). Null when nothing matched.
   * `alongside` writes more rows in the same transaction, once the job row has changed.
   */
  updateRunning(
    jobId: string,
    patch: JobPatch,
    eventType?: JobEventType,
    ifUpstreamState?: Job['upstreamState'],
    alongside?: WriteAlongside,
  ): Promise<Change | { job: Job; event: null } | null> {
    const guard: Prisma.JobWhereInput =
      ifUpstreamState === undefined ? {} : { upstreamState: ifUpstreamState === null ? { equals: Prisma.DbNull } : { equals: ifUpstreamState } };
    return this.db.$transaction(async (tx) => {
      const [job] = await tx.job.updateManyAndReturn({
        where: { id: jobId, status: 'running', ...guard },
        data: { ...patchData(patch), updatedAt: new Date(), ...(eventType ? { eventSeq: { increment: 1 } } : {}) },
      });
      if (!job) return null;
      await alongside?.(tx, job);
      if (!eventType) return { job, event: null };
      const event = await appendEvent(tx, job, eventType);
      return { job, event, deliveryIds: await this.outbox(tx, job, event) };
    });
  }

  /**
   * Keeps a running job's output once its gateway answer was received and its artifacts stored: a
   * later run (the final write failed, the worker died) finishes from it without calling the gateway
   * again. False when the job is no longer running.
   */
  async keepReceivedOutput(jobId: string, output: Record<string, unknown>): Promise<boolean> {
    const { count } = await this.db.job.updateMany({
      where: { id: jobId, status: 'running' },
      data: { receivedOutput: asJson(output), updatedAt: new Date() },
    });
    return count === 1;
  }

  /** Counts another run of a job that is already running (a retry after an error, or a stalled re-run). */
  async beginAttempt(jobId: string): Promise<Job | null> {
    const [job] = await this.db.job.updateManyAndReturn({
      where: { id: jobId, status: 'running' },
      data: { attempts: { increment: 1 }, lastProgressAt: new Date(), updatedAt: new Date() },
    });
    return job ?? null;
  }

  /** Queued rows past their queue TTL. */
  findExpiredQueued(now: Date, limit: number): Promise<Pick<Job, 'id' | 'type'>[]> {
    return this.db.job.findMany({
      where: { status: 'queued', queueExpiresAt: { lt: now } },
      select: { id: true, type: true },
      take: limit,
    });
  }

  /**
   * Queued or running rows not touched for a while: candidates for re-enqueueing if Redis lost them.
   * Oldest first, a page at a time: pass the last row of a page as `after` to get the next one.
   */
  findStale(olderThan: Date, limit: number, after: StaleCursor | null = null): Promise<StaleJob[]> {
    const page: Prisma.JobWhereInput = after
      ? { OR: [{ updatedAt: { gt: after.updatedAt } }, { updatedAt: after.updatedAt, id: { gt: after.id } }] }
      : {};
    return this.db.job.findMany({
      where: { status: { in: ['queued', 'running'] }, updatedAt: { lt: olderThan }, ...page },
      select: { id: true, projectId: true, type: true, status: true, priority: true, updatedAt: true },
      orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
      take: limit,
    });
  }

  /** Running rows past their hard deadline or silent past their inactivity timeout. */
  async findOverdueRunning(now: Date, limit: number): Promise<{ id: string; reason: 'deadline' | 'inactivity' }[]> {
    const rows = await this.db.$queryRaw<{ id: string; reason: 'deadline' | 'inactivity' }[]>`
      SELECT id,
             CASE WHEN deadline_at < ${now} THEN 'deadline' ELSE 'inactivity' END AS reason
        FROM jobs
       WHERE status = 'running'
         AND (deadline_at < ${now}
              OR last_progress_at + make_interval(secs => inactivity_timeout_sec) < ${now})
       LIMIT ${limit}`;
    return rows;
  }

  countRunningForProject(projectId: string): Promise<number> {
    return this.db.job.count({ where: { projectId, status: 'running' } });
  }
}
