import { newId, type CostSource } from '@genqueue/core';
import type pg from 'pg';
import { poolOf } from '../client';
import { Prisma, type GatewayBalanceSnapshot, type Job, type JobCost, type PrismaClient } from '../generated/prisma/client';
import { jobFromRow } from './raw-rows';
import { asJson } from './types';

/** What a balance alert is about: the snapshot that crossed the threshold. */
export type BalanceAlertFacts = {
  availableUnits: number | null;
  availableUsd: number | null;
  thresholdUnits: number;
  takenAt: Date;
  snapshotId: string;
};

/**
 * Who gets a balance alert and what they are sent: decided by @genqueue/webhooks, handed to the
 * repository by the composition root (the repository only writes the rows, in the snapshot's transaction).
 */
export type BalanceAlertFanOut = {
  /** the delivery rows' event type */
  eventType: string;
  /** whether an endpoint with these event types gets the alert */
  wants(endpointEventTypes: readonly string[]): boolean;
  /** the delivery's body */
  payloadOf(alert: BalanceAlertFacts): unknown;
  /** a new delivery's `webhook-id` */
  newWebhookId(): string;
};

/** A balance under `thresholdUnits` sends `fanOut`'s alert once per crossing. */
export type BalanceAlert = { thresholdUnits: number; fanOut: BalanceAlertFanOut };

/** Serialises balance snapshot inserts, so an alert crossing is seen by exactly one writer. */
const SNAPSHOT_LOCK_CLASS = 0x67710002;

export type NewCostEntry = {
  jobId: string;
  projectId: string;
  jobType: string;
  /** unique within the job: a second recording with the same key is a no-op */
  entryKey: string;
  source: CostSource;
  estimated?: boolean;
  /** quota units, > 0 for a charge */
  units: number;
  model?: string | null;
  detail?: Record<string, unknown>;
  chargedAt: Date;
};

export type NewBalanceSnapshot = {
  takenAt: Date;
  availableUnits: number | null;
  usedUnits: number | null;
  grantedUnits: number | null;
  availableUsd: number | null;
  isUnlimited: boolean;
  source: string;
  reason: 'timer' | 'job_start' | 'job_finish';
  jobId?: string | null;
};

export type SnapshotWrite = {
  snapshot: GatewayBalanceSnapshot;
  /** the balance went under the alert threshold with this snapshot */
  crossedBelow: boolean;
  /** gateway.balance_low deliveries written with it (to be queued) */
  deliveryIds: string[];
};

export type UsageRow = {
  day: string;
  projectId: string | null;
  jobType: string;
  /** charges minus refunds, quota units */
  units: number;
  chargedUnits: number;
  refundedUnits: number;
  estimatedUnits: number;
  jobs: number;
  entries: number;
};

export type UsageQuery = { from: Date; to: Date; projectId?: string; byProject: boolean };

/** A job_costs charge row as the raw insert sends it (snake_case, as the columns are named). */
type CostRow = {
  id: string;
  job_id: string;
  project_id: string;
  job_type: string;
  entry_key: string;
  source: CostSource;
  estimated: boolean;
  units: number;
  model: string | null;
  detail: Record<string, unknown>;
  charged_at: Date;
};

const toNumber = (value: bigint | number | null | undefined): number => (value === null || value === undefined ? 0 : Number(value));

/** The cost ledger (job_costs) and the gateway's balance snapshots. */
export class CostsRepository {
  /** the client's pg pool: the per-job ledger write runs through it as raw SQL */
  private readonly pool: pg.Pool | undefined;

  constructor(private readonly db: PrismaClient) {
    this.pool = poolOf(db);
  }

  /** The job a recording prices (one statement on the pool, the recorder's read of every final job). */
  async jobToPrice(jobId: string): Promise<Job | null> {
    if (!this.pool) return this.db.job.findUnique({ where: { id: jobId } });
    const { rows } = await this.pool.query('SELECT * FROM jobs WHERE id = $1', [jobId]);
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  /** Inserts a charge; false when the job already has an entry with this key. */
  async record(entry: NewCostEntry): Promise<boolean> {
    const [inserted] = await this.recordMany([entry]);
    return inserted ?? false;
  }

  /**
   * Inserts charges as one statement (the rows travel as one JSON array on the pg pool, not through
   * Prisma's engine); answers, per entry, false when its job already has an entry with its key.
   */
  async recordMany(entries: readonly NewCostEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const rows = entries.map((entry) => {
      if (!Number.isFinite(entry.units)) throw new Error(`cost entry ${entry.jobId}/${entry.entryKey}: units ${entry.units} is not a number`);
      return {
        id: newId('jco'),
        job_id: entry.jobId,
        project_id: entry.projectId,
        job_type: entry.jobType,
        entry_key: entry.entryKey,
        source: entry.source,
        estimated: entry.estimated ?? false,
        units: Math.round(entry.units),
        model: entry.model ?? null,
        detail: entry.detail ?? {},
        charged_at: entry.chargedAt,
      };
    });
    if (!this.pool) return Promise.all(rows.map((r) => this.recordWithPrisma(r)));
    // a repeated key (another recording of the same entry, in this array or before it) is skipped
    const { rows: inserted } = await this.pool.query<{ id: string }>(
      `INSERT INTO job_costs (id, job_id, project_id, job_type, entry_key, kind, source, estimated, units, model, detail, charged_at)
       SELECT r.id, r.job_id, r.project_id, r.job_type, r.entry_key, 'charge', r.source, r.estimated, r.units, r.model, r.detail, r.charged_at
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, job_id text, project_id text, job_type text, entry_key text, source text,
              estimated boolean, units bigint, model text, detail jsonb, charged_at timestamptz)
       ON CONFLICT (job_id, entry_key) DO NOTHING
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    const ids = new Set(inserted.map((r) => r.id));
    return rows.map((r) => ids.has(r.id));
  }

  /** A client made elsewhere than createPrismaClient has no pool to reach: the same insert through Prisma. */
  private async recordWithPrisma(r: CostRow): Promise<boolean> {
    const result = await this.db.jobCost.createMany({
      data: [
        {
          id: r.id,
          jobId: r.job_id,
          projectId: r.project_id,
          jobType: r.job_type,
          entryKey: r.entry_key,
          kind: 'charge',
          source: r.source,
          estimated: r.estimated,
          units: BigInt(r.units),
          model: r.model,
          detail: asJson(r.detail),
          chargedAt: r.charged_at,
        },
      ],
      skipDuplicates: true,
    });
    return result.count > 0;
  }

  /**
   * The gateway refunded a failed task: the negative of the task's charge (`task:<taskId>`), once.
   * False when there is no such charge or the refund is already recorded.
   */
  async recordRefund(jobId: string, taskId: string, refundedAt: Date, reason: string): Promise<boolean> {
    const count = await this.db.$executeRaw`
      INSERT INTO job_costs (id, job_id, project_id, job_type, entry_key, kind, source, estimated, units, model, detail, charged_at)
      SELECT ${newId('jco')}, job_id, project_id, job_type, ${`refund:${taskId}`}, 'refund', source, estimated, -units, model,
             jsonb_build_object('refund_of', id, 'reason', ${reason}::text), ${refundedAt}
        FROM job_costs
       WHERE job_id = ${jobId} AND entry_key = ${`task:${taskId}`}
      ON CONFLICT (job_id, entry_key) DO NOTHING`;
    return count > 0;
  }

  forJob(jobId: string): Promise<JobCost[]> {
    return this.db.jobCost.findMany({ where: { jobId }, orderBy: [{ chargedAt: 'asc' }, { id: 'asc' }] });
  }

  /** Charges and refunds of other jobs recorded within (after, until]: spend a balance delta includes. */
  async unitsOfOthers(jobId: string, after: Date, until: Date): Promise<number> {
    const rows = await this.db.$queryRaw<{ units: bigint | null }[]>`
      SELECT sum(units) AS units FROM job_costs
       WHERE job_id <> ${jobId} AND charged_at > ${after} AND charged_at <= ${until}`;
    return toNumber(rows[0]?.units);
  }

  /**
   * Final jobs finished since `since` that ran (started) and have no ledger row yet, oldest first:
   * the catch-up of the recorder (a worker that died between the job's end and its cost).
   */
  async unrecordedFinished(since: Date, until: Date, limit: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT j.id FROM jobs j
       WHERE j.finished_at >= ${since} AND j.finished_at < ${until} AND j.started_at IS NOT NULL
         AND j.status IN ('succeeded', 'failed', 'canceled', 'expired')
         AND NOT EXISTS (SELECT 1 FROM job_costs c WHERE c.job_id = j.id)
       ORDER BY j.finished_at ASC
       LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  // ----- balance snapshots -----------------------------------------------------------------------

  /**
   * Inserts a snapshot. With an alert, a snapshot under its threshold after one that was not (or
   * after none) writes one delivery per active endpoint the alert's fan-out picks, in the same
   * transaction; the lock makes concurrent writers see each other, so a crossing fires once.
   */
  async insertSnapshot(input: NewBalanceSnapshot, alert: BalanceAlert | null, now = new Date()): Promise<SnapshotWrite> {
    const alertUnits = alert?.thresholdUnits ?? null;
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SNAPSHOT_LOCK_CLASS}::int, 0)`;
      const previous = await tx.gatewayBalanceSnapshot.findFirst({ orderBy: [{ takenAt: 'desc' }, { id: 'desc' }] });
      const isBelow = alertUnits !== null && input.availableUnits !== null && !input.isUnlimited && input.availableUnits < alertUnits;
      const snapshot = await tx.gatewayBalanceSnapshot.create({
        data: {
          id: newId('gbs'),
          takenAt: input.takenAt,
          availableUnits: input.availableUnits === null ? null : BigInt(Math.round(input.availableUnits)),
          usedUnits: input.usedUnits === null ? null : BigInt(Math.round(input.usedUnits)),
          grantedUnits: input.grantedUnits === null ? null : BigInt(Math.round(input.grantedUnits)),
          availableUsd: input.availableUsd,
          isUnlimited: input.isUnlimited,
          source: input.source,
          reason: input.reason,
          jobId: input.jobId ?? null,
          isBelowAlert: isBelow,
        },
      });
      const crossedBelow = isBelow && !(previous?.isBelowAlert ?? false);
      if (!crossedBelow || !alert) return { snapshot, crossedBelow, deliveryIds: [] };
      const active = await tx.webhookEndpoint.findMany({
        where: { deletedAt: null, disabledAt: null },
        select: { id: true, projectId: true, url: true, eventTypes: true },
      });
      const payload = alert.fanOut.payloadOf({
        availableUnits: input.availableUnits,
        availableUsd: input.availableUsd,
        thresholdUnits: alert.thresholdUnits,
        takenAt: input.takenAt,
        snapshotId: snapshot.id,
      });
      const rows: Prisma.WebhookDeliveryCreateManyInput[] = active
        .filter((endpoint) => alert.fanOut.wants(endpoint.eventTypes))
        .map((endpoint) => ({
          id: newId('whd'),
          projectId: endpoint.projectId,
          // not a job's event: job_id is empty, event_id is the snapshot that crossed the threshold
          jobId: '',
          eventId: snapshot.id,
          endpointId: endpoint.id,
          webhookId: alert.fanOut.newWebhookId(),
          eventType: alert.fanOut.eventType,
          url: endpoint.url,
          payload: asJson(payload),
          status: 'pending',
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        }));
      if (rows.length > 0) await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true });
      return { snapshot, crossedBelow, deliveryIds: rows.map((r) => r.id as string) };
    });
  }

  latestSnapshot(): Promise<GatewayBalanceSnapshot | null> {
    return this.db.gatewayBalanceSnapshot.findFirst({ orderBy: [{ takenAt: 'desc' }, { id: 'desc' }] });
  }

  /** The last snapshot with a unit balance taken at or before `at`. */
  snapshotAtOrBefore(at: Date): Promise<GatewayBalanceSnapshot | null> {
    return this.db.gatewayBalanceSnapshot.findFirst({
      where: { takenAt: { lte: at }, availableUnits: { not: null } },
      orderBy: [{ takenAt: 'desc' }, { id: 'desc' }],
    });
  }

  /** The first snapshot with a unit balance taken at or after `at`. */
  snapshotAtOrAfter(at: Date): Promise<GatewayBalanceSnapshot | null> {
    return this.db.gatewayBalanceSnapshot.findFirst({
      where: { takenAt: { gte: at }, availableUnits: { not: null } },
      orderBy: [{ takenAt: 'asc' }, { id: 'asc' }],
    });
  }

  snapshots(from: Date, to: Date, limit = 1000): Promise<GatewayBalanceSnapshot[]> {
    return this.db.gatewayBalanceSnapshot.findMany({ where: { takenAt: { gte: from, lt: to } }, orderBy: { takenAt: 'asc' }, take: limit });
  }

  // ----- usage reports -----------------------------------------------------------------------------

  /** Ledger totals per UTC day and job type (and project when `byProject`) of entries charged in [from, to). */
  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const projectFilter = query.projectId ? Prisma.sql`AND project_id = ${query.projectId}` : Prisma.empty;
    const projectColumn = query.byProject ? Prisma.sql`project_id` : Prisma.sql`NULL::text`;
    const groupBy = query.byProject ? Prisma.sql`GROUP BY 1, 2, 3` : Prisma.sql`GROUP BY 1, 3`;
    const rows = await this.db.$queryRaw<
      { day: string; projectId: string | null; jobType: string; units: bigint; charged: bigint; refunded: bigint; estimated: bigint; jobs: bigint; entries: bigint }[]
    >`
      SELECT to_char(date_trunc('day', charged_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
             ${projectColumn} AS "projectId",
             job_type AS "jobType",
             sum(units) AS units,
             sum(units) FILTER (WHERE kind = 'charge') AS charged,
             coalesce(-sum(units) FILTER (WHERE kind = 'refund'), 0) AS refunded,
             coalesce(sum(units) FILTER (WHERE estimated), 0) AS estimated,
             count(DISTINCT job_id) AS jobs,
             count(*) AS entries
        FROM job_costs
       WHERE charged_at >= ${query.from} AND charged_at < ${query.to} ${projectFilter}
       ${groupBy}
       ORDER BY 1, 2, 3`;
    return rows.map((r) => ({
      day: r.day,
      projectId: r.projectId,
      jobType: r.jobType,
      units: toNumber(r.units),
      chargedUnits: toNumber(r.charged),
      refundedUnits: toNumber(r.refunded),
      estimatedUnits: toNumber(r.estimated),
      jobs: toNumber(r.jobs),
      entries: toNumber(r.entries),
    }));
  }
}
