import {
  eventTypeFor,
  GroupCommit,
  jobSearchText,
  newId,
  sourcesOf,
  toEventSnapshot,
  type JobEventType,
  type JobStatus,
} from '@genqueue/core';
import type pg from 'pg';
import { poolOf } from '../client';
import { isUniqueViolation } from '../prisma-errors';
import { Prisma, type Job, type JobEvent, type PrismaClient } from '../generated/prisma/client';
import type { JobPatch } from './job-patch';
import { jobReadsById, receivedOutputKeeps, type KeepCall } from './grouped-job-statements';
import { appendEvent } from './job-snapshot';
import { OneStatementTransitions, USE_TRANSACTION_PATH } from './one-statement-transitions';
import { rawAssignments, statusChangeSets } from './status-change-sql';
import { maxRunningJobsOf } from './projects.repository';
import { artifactFromJson, jobFromRow } from './raw-rows';
import { asJson, type Db } from './types';
import { deliveryIdsFor } from './webhook-deliveries.repository';
import type { EndpointTarget } from './webhook-endpoints.repository';
import { NEEDS_RATE_CHECK, type OutboxPlan, type WebhookOutbox } from './webhook-outbox';

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
 * The whole row of a new queued job (its `job.created` event is seq 1), defaults written out (a raw
 * insert returns nothing to read back); every create path writes through it. One object literal on
 * purpose: built as `{ ...row, more }` it cost some 30 µs per job in V8 (a spread followed by added
 * and repeated keys leaves the fast object-literal path), a fifth of a bulk request's CPU.
 */
function newJobRecord(input: NewJob, now: Date): Job {
  return {
    id: newId('job'),
    projectId: input.projectId,
    type: input.type,
    status: 'queued',
    input: input.input as Job['input'],
    output: null,
    error: null,
    progress: 0,
    attempts: 0,
    metadata: input.metadata as Job['metadata'],
    priority: input.priority,
    idempotencyKey: input.idempotencyKey,
    idempotencyHash: input.idempotencyHash,
    webhookUrl: input.webhookUrl,
    webhookEvents: input.webhookEvents,
    upstreamTaskId: null,
    upstreamStatus: null,
    upstreamState: null,
    receivedOutput: null,
    parentId: input.parentId,
    eventSeq: 1,
    queueExpiresAt: new Date(now.getTime() + input.ttlSec * 1000),
    ttlSec: input.ttlSec,
    inactivityTimeoutSec: input.inactivityTimeoutSec,
    deadlineSec: input.deadlineSec,
    deadlineAt: null,
    lastProgressAt: null,
    // what the admin search matches words in, written with the job so a new job is found at once
    searchText: jobSearchText(input.type, input.input),
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    prunedAt: null,
  };
}

/** `newJobRecord` as Prisma's create input: its JSON columns that start empty are left to their default (SQL NULL). */
function newJobRow(input: NewJob, now: Date): Prisma.JobCreateManyInput {
  const { output: _output, error: _error, upstreamState: _upstreamState, receivedOutput: _receivedOutput, input: jobInput, metadata, ...rest } = newJobRecord(input, now);
  return { ...rest, input: asJson(jobInput), metadata: asJson(metadata) };
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
  /**
   * Writes each change's webhook deliveries in the change's transaction; the composition root
   * builds it with the fan-out policy. Null only where a test fans out by hand.
   */
  webhookOutbox: WebhookOutbox | null;
};

export type { JobPatch } from './job-patch';

/** Signals the raw path to give the change to the Prisma path (a limited project's start, an outbox to write). */
const USE_PRISMA_PATH = Symbol('use-prisma-path');

/**
 * The event row of a change and, in the same statement, its outbox rows (`plan`, or none): the
 * pending deliveries and the project's first signing secret. Answers the new deliveries' ids.
 */
async function insertEventWithOutbox(client: pg.PoolClient, event: JobEvent, plan: OutboxPlan | null): Promise<string[]> {
  const eventParams = [event.id, event.jobId, event.projectId, event.seq, event.type, JSON.stringify(event.data), event.createdAt];
  const insertEvent = 'INSERT INTO job_events (id, job_id, project_id, seq, type, data, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)';
  if (!plan || plan.rows.length === 0) {
    await client.query(insertEvent, eventParams);
    return [];
  }
  const ids = deliveryIdsFor(event.id, plan.rows);
  const rows = plan.rows.map((target, i) => ({ id: ids[i], endpoint_id: target.endpointId, webhook_id: target.webhookId, url: target.url }));
  const { rows: inserted } = await client.query<{ id: string }>(
    `WITH ev AS (${insertEvent} RETURNING id), secret AS (
       UPDATE projects SET webhook_secret = $8 WHERE id = $3 AND $8::text IS NOT NULL AND webhook_secret IS NULL
     )
     INSERT INTO webhook_deliveries (id, project_id, job_id, event_id, endpoint_id, webhook_id, event_type, url, payload, status, next_attempt_at, created_at, updated_at)
     SELECT t.id, $3, $2, $1, t.endpoint_id, t.webhook_id, $5, t.url, $10::jsonb, 'pending', $7, $7, $7
       FROM jsonb_to_recordset($9::jsonb) AS t(id text, endpoint_id text, webhook_id text, url text)
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [...eventParams, plan.projectSecret, JSON.stringify(rows), JSON.stringify(plan.payload)],
  );
  const insertedIds = new Set(inserted.map((r) => r.id));
  return ids.filter((id) => insertedIds.has(id));
}

/**
 * A bulk insert writes 1,000 jobs and their events (each with indexes and the counts trigger): on a
 * loaded machine that outlasts Prisma's 5 s default for an interactive transaction.
 */
const BULK_TRANSACTION = { maxWait: 10_000, timeout: 60_000 };

export class JobsRepository {
  private readonly webhookOutbox: WebhookOutbox | null;
  /** the client's pg pool: the hottest statements run through it as raw SQL (Prisma for the rest) */
  private readonly pool: pg.Pool | undefined;
  /** the common status change as one statement, grouped across concurrent callers */
  private readonly oneStatement: OneStatementTransitions | undefined;
  /** reads by id, grouped across concurrent callers (every run starts with one) */
  private readonly byIdReads: GroupCommit<string, Job | null> | undefined;
  /** kept results, grouped across concurrent callers (every synchronous run ends with one) */
  private readonly keeps: GroupCommit<KeepCall, boolean> | undefined;
  /** submissions without an idempotency key, grouped across concurrent requests */
  private readonly plainCreates: GroupCommit<NewJob, Change> | undefined;

  constructor(
    private readonly db: PrismaClient,
    options: JobsRepositoryOptions,
  ) {
    this.webhookOutbox = options.webhookOutbox;
    this.pool = poolOf(db);
    this.oneStatement = this.pool ? new OneStatementTransitions(this.pool) : undefined;
    this.byIdReads = this.pool ? jobReadsById(this.pool) : undefined;
    this.keeps = this.pool ? receivedOutputKeeps(this.pool) : undefined;
    const pool = this.pool;
    this.plainCreates = pool
      ? new GroupCommit<NewJob, Change>({
          // one insert statement for the jobs and their events (createMany's), all created at the statement's time
          runBatch: (inputs) => this.createManyRaw(pool, inputs, new Date()),
          runOne: (input) => this.createRaw(pool, input, new Date()),
          maxBatch: 200,
          // several at once: a submission waits for no other's insert until the inserts are the bottleneck
          maxInFlight: 4,
        })
      : undefined;
  }

  private outbox(tx: Db, job: Job, event: JobEvent): Promise<string[]> {
    return this.webhookOutbox ? this.webhookOutbox.write(tx, job, event) : Promise.resolve([]);
  }

  /**
   * Many new jobs (no idempotency keys: a bulk submission) with their `job.created` events, in one
   * transaction and a few statements instead of a transaction each. In the order given.
   */
  createMany(inputs: readonly NewJob[], now = new Date()): Promise<Change[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    if (inputs.some((input) => input.idempotencyKey !== null)) throw new Error('createMany takes no idempotency keys');
    if (this.pool) return this.createManyRaw(this.pool, inputs, now);
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
   * `createMany` as one statement: the rows and their events travel as two JSON arrays
   * (jsonb_to_recordset), so 1,000 jobs cost one round trip and no per-row parameters.
   */
  private async createManyRaw(pool: pg.Pool, inputs: readonly NewJob[], now: Date): Promise<Change[]> {
    const jobs = inputs.map((input) => newJobRecord(input, now));
    const events: JobEvent[] = jobs.map((job) => ({ id: newId('evt'), jobId: job.id, projectId: job.projectId, seq: 1, type: 'job.created', data: toEventSnapshot(job, []) as JobEvent['data'], createdAt: now }));
    const rows = jobs.map((j) => ({
      id: j.id, project_id: j.projectId, type: j.type, input: j.input, metadata: j.metadata, priority: j.priority, webhook_url: j.webhookUrl,
      webhook_events: j.webhookEvents, parent_id: j.parentId, search_text: j.searchText, queue_expires_at: j.queueExpiresAt,
      ttl_sec: j.ttlSec, inactivity_timeout_sec: j.inactivityTimeoutSec, deadline_sec: j.deadlineSec,
    }));
    const eventRows = events.map((e) => ({ id: e.id, job_id: e.jobId, project_id: e.projectId, data: e.data }));
    await pool.query(
      `WITH j AS (
         INSERT INTO jobs (id, project_id, type, status, input, metadata, priority, webhook_url, webhook_events, parent_id, search_text,
                           event_seq, queue_expires_at, ttl_sec, inactivity_timeout_sec, deadline_sec, created_at, updated_at)
         SELECT r.id, r.project_id, r.type, 'queued', r.input, r.metadata, r.priority, r.webhook_url,
                ARRAY(SELECT jsonb_array_elements_text(r.webhook_events)), r.parent_id, r.search_text,
                1, r.queue_expires_at, r.ttl_sec, r.inactivity_timeout_sec, r.deadline_sec, $3, $3
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, project_id text, type text, input jsonb, metadata jsonb, priority int,
                webhook_url text, webhook_events jsonb, parent_id text, search_text text, queue_expires_at timestamptz,
                ttl_sec int, inactivity_timeout_sec int, deadline_sec int)
         RETURNING id)
       INSERT INTO job_events (id, job_id, project_id, seq, type, data, created_at)
       SELECT e.id, e.job_id, e.project_id, 1, 'job.created', e.data, $3
         FROM jsonb_to_recordset($2::jsonb) AS e(id text, job_id text, project_id text, data jsonb)
         JOIN j ON j.id = e.job_id`,
      [JSON.stringify(rows), JSON.stringify(eventRows), now],
    );
    // `job.created` is no webhook event type: no outbox rows
    return jobs.map((job, i) => ({ job, event: events[i]!, deliveryIds: [] }));
  }

  /**
   * Takes back the run counted when a running job was started again, when that run sent nothing
   * (its gateway lane held it back): `attempts` counts runs that tried.
   */
  async returnAttempt(jobId: string): Promise<void> {
    await this.db.job.updateMany({ where: { id: jobId, status: 'running', attempts: { gt: 0 } }, data: { attempts: { decrement: 1 } } });
  }

  /**
   * Inserts the job and its `job.created` event in one transaction. With an idempotency key held by
   * another job, throws the unique violation (the caller answers that job), unless that job's key is
   * older than its 24 h window: the key is free again, and moves to the new job.
   */
  create(input: NewJob, now?: Date): Promise<Change> {
    // submissions without a key, made while an insert is in flight, go together in the next one
    if (this.plainCreates && input.idempotencyKey === null && input.idempotencyHash === null && now === undefined) return this.plainCreates.run(input);
    if (this.pool) return this.createRawKeyed(this.pool, input, now ?? new Date());
    now ??= new Date();
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

  /**
   * `create` on the raw path: the insert first (one round trip for a key never used or still held);
   * only when the key is taken, a key past its window is detached and the insert tried once more.
   */
  private async createRawKeyed(pool: pg.Pool, input: NewJob, now: Date): Promise<Change> {
    try {
      return await this.createRaw(pool, input, now);
    } catch (err) {
      if (!input.idempotencyKey || !isUniqueViolation(err, ['project_id', 'idempotency_key'])) throw err;
      const { rowCount } = await pool.query(
        'UPDATE jobs SET idempotency_key = NULL, updated_at = $4 WHERE project_id = $1 AND idempotency_key = $2 AND created_at < $3',
        [input.projectId, input.idempotencyKey, new Date(now.getTime() - 86_400_000), now],
      );
      if (!rowCount) throw err;
      return this.createRaw(pool, input, now);
    }
  }

  /**
   * The job row and its event as one statement (atomic, no transaction round trips). The row is
   * known before the insert: the defaults are written out here. `job.created` is no webhook event
   * type: no outbox rows.
   */
  private async createRaw(pool: pg.Pool, input: NewJob, now: Date): Promise<Change> {
    const job = newJobRecord(input, now);
    const event: JobEvent = { id: newId('evt'), jobId: job.id, projectId: job.projectId, seq: 1, type: 'job.created', data: toEventSnapshot(job, []) as JobEvent['data'], createdAt: now };
    await pool.query(
      `WITH j AS (
         INSERT INTO jobs (id, project_id, type, status, input, metadata, priority, webhook_url, webhook_events,
                           idempotency_hash, parent_id, search_text, event_seq, queue_expires_at, ttl_sec,
                           inactivity_timeout_sec, deadline_sec, created_at, updated_at, idempotency_key)
         VALUES ($1, $2, $3, 'queued', $4::jsonb, $5::jsonb, $6, $7, $8::text[], $9, $10, $11, 1, $12, $13, $14, $15, $16, $16, $19)
         RETURNING id, project_id)
       INSERT INTO job_events (id, job_id, project_id, seq, type, data, created_at)
       SELECT $17, j.id, j.project_id, 1, 'job.created', $18::jsonb, $16 FROM j`,
      [
        job.id, job.projectId, job.type, JSON.stringify(job.input), JSON.stringify(job.metadata), job.priority, job.webhookUrl, job.webhookEvents,
        job.idempotencyHash, job.parentId, job.searchText, job.queueExpiresAt, job.ttlSec, job.inactivityTimeoutSec, job.deadlineSec, now,
        event.id, JSON.stringify(event.data), job.idempotencyKey,
      ],
    );
    return { job, event, deliveryIds: [] };
  }

  findById(id: string): Promise<Job | null> {
    if (!this.byIdReads) return this.db.job.findUnique({ where: { id } });
    return this.byIdReads.run(id);
  }

  findForProject(projectId: string, id: string): Promise<Job | null> {
    return this.db.job.findFirst({ where: { id, projectId } });
  }

  async findByIdempotencyKey(projectId: string, key: string): Promise<Job | null> {
    if (!this.pool) return this.db.job.findUnique({ where: { projectId_idempotencyKey: { projectId, idempotencyKey: key } } });
    const { rows } = await this.pool.query('SELECT * FROM jobs WHERE project_id = $1 AND idempotency_key = $2', [projectId, key]);
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  /**
   * Guarded status change: applies only if the job is in a status from which `to` is legal
   * (or in `from`, when given). Writes the event in the same transaction. Null when another actor won.
   * A start (`running`) throws RunningLimitReached when the project already runs its `max_running_jobs`.
   * `alongside` writes more rows in the same transaction, once the job row has changed.
   */
  async transition(jobId: string, to: JobStatus, patch: JobPatch = {}, from?: JobStatus[], alongside?: WriteAlongside): Promise<Change | null> {
    const allowed = from ?? sourcesOf(to);
    // The common change (a start of a job whose project has no running limit, an end with no
    // webhook to write, no rows alongside) as raw SQL; everything else on the Prisma path below.
    if (this.pool && !alongside && to !== 'queued') {
      const once = await this.oneStatement!.run({ jobId, to, patch, allowed });
      if (once !== USE_TRANSACTION_PATH) return once;
      const done = await this.transitionRaw(this.pool, jobId, to, patch, allowed);
      if (done !== USE_PRISMA_PATH) return done;
    }
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
   * `transition` in one transaction of two statements: the guarded update (which also reads the
   * status it came from, the project's limits, the job's artifacts for the event's snapshot and
   * the project's active endpoints), then the event insert with the change's webhook deliveries
   * (the outbox rows the fan-out plans from those endpoints, and the project's signing secret when
   * a job URL gets its first). Rolls back and answers USE_PRISMA_PATH when the change needs more: a
   * start in a project with a running limit (its slot claim), or a rate-limited webhook type.
   */
  private async transitionRaw(pool: pg.Pool, jobId: string, to: JobStatus, patch: JobPatch, allowed: readonly JobStatus[]): Promise<Change | null | typeof USE_PRISMA_PATH> {
    const now = new Date();
    const params: unknown[] = [jobId, [...allowed], to === 'running'];
    const assignments = rawAssignments(statusChangeSets(to, patch, now, params), params);
    const client = await pool.connect();
    let failed = false;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `WITH cur AS (
           SELECT j.id, j.status, p.limits FROM jobs j JOIN projects p ON p.id = j.project_id WHERE j.id = $1 FOR UPDATE OF j
         ), upd AS (
           UPDATE jobs j SET ${assignments}
             FROM cur
            WHERE j.id = cur.id AND cur.status = ANY($2::text[])
              AND NOT ($3::boolean AND coalesce(jsonb_typeof(cur.limits -> 'max_running_jobs'), '') = 'number')
           RETURNING j.*
         )
         SELECT cur.status AS "cur$status", cur.limits AS "cur$limits",
                (SELECT coalesce(json_agg(a ORDER BY a.created_at), '[]'::json) FROM artifacts a WHERE a.job_id = $1) AS "cur$artifacts",
                (SELECT coalesce(json_agg(json_build_object('id', e.id, 'url', e.url, 'eventTypes', e.event_types) ORDER BY e.created_at, e.id), '[]'::json)
                   FROM webhook_endpoints e
                  WHERE e.project_id = upd.project_id AND e.deleted_at IS NULL AND e.disabled_at IS NULL) AS "cur$endpoints",
                upd.*
           FROM cur LEFT JOIN upd ON true`,
        params,
      );
      const row = rows[0] as Record<string, unknown> | undefined;
      const fromStatus = row?.['cur$status'] as JobStatus | undefined;
      if (!row || !fromStatus || !allowed.includes(fromStatus) || row['id'] == null) {
        await client.query('ROLLBACK');
        // allowed but not updated: a limited project's start, which claims its slot on the Prisma path
        return fromStatus && allowed.includes(fromStatus) ? USE_PRISMA_PATH : null;
      }
      const job = jobFromRow(row);
      const type = eventTypeFor(to, fromStatus);
      const artifacts = (row['cur$artifacts'] as Record<string, unknown>[]).map(artifactFromJson);
      const event: JobEvent = { id: newId('evt'), jobId, projectId: job.projectId, seq: job.eventSeq, type, data: toEventSnapshot(job, artifacts) as JobEvent['data'], createdAt: now };
      const plan = this.webhookOutbox ? this.webhookOutbox.plan(job, event, row['cur$endpoints'] as EndpointTarget[]) : null;
      if (plan === NEEDS_RATE_CHECK) {
        await client.query('ROLLBACK');
        return USE_PRISMA_PATH;
      }
      const deliveryIds = await insertEventWithOutbox(client, event, plan);
      await client.query('COMMIT');
      return { job, event, deliveryIds };
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // a connection whose rollback failed may be broken: it leaves the pool
      client.release(failed ? true : undefined);
    }
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
    if (this.keeps) return this.keeps.run({ jobId, output });
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
