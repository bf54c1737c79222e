import { decodeListCursor, encodeListCursor, newId, type ListCursor } from '@genqueue/core';
import { Prisma, type PrismaClient, type WebhookAttempt, type WebhookDelivery, type WebhookEndpoint } from '../generated/prisma/client';
import type { Page } from './job-queries';
import type { SigningSecrets } from './webhook-secrets.repository';
import { asJson, type Db } from './types';

/** A webhook delivery row as the repositories answer it. */
export type WebhookDeliveryRecord = WebhookDelivery;

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One attempt's outcome, as `sendWebhook` returns it. */
export type AttemptRecord = {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  /** when the attempt was made; defaults to now */
  at?: Date;
};

export type RecordedAttempt = {
  delivery: WebhookDeliveryRecord;
  attempt: WebhookAttempt;
  /** the endpoint's unbroken failure run after this attempt (null: not failing, or a job URL) */
  endpointFailingSince: Date | null;
};

export type DeliveryWithAttempts = WebhookDeliveryRecord & { attempts: WebhookAttempt[] };

export type DeliveryForSending = {
  delivery: WebhookDeliveryRecord;
  /** null for a job URL; the processor should skip a disabled or deleted endpoint */
  endpoint: Pick<WebhookEndpoint, 'id' | 'disabledAt' | 'deletedAt'> | null;
  /** the endpoint's secrets, or the project's for a job URL; null if the project has none */
  secrets: SigningSecrets | null;
};

export type DeliveryListFilter = {
  projectId?: string;
  jobId?: string;
  endpointId?: string;
  status?: string;
};

/** One target of an event's deliveries: an endpoint, or the job's own URL (`endpointId` null). */
export type DeliveryTarget = { endpointId: string | null; url: string; webhookId: string };

/** The deliveries of one event, decided by the caller's fan-out policy (see `WebhookOutbox`). */
export type NewEventDeliveries = {
  projectId: string;
  /** '' for an event that is no job's */
  jobId: string;
  eventId: string;
  eventType: string;
  /** the webhook body, the same for every target */
  payload: unknown;
  targets: readonly DeliveryTarget[];
  /** first attempt due */
  now: Date;
};

/** A claimed delivery is not handed out again by `claimDue` for this long. */
export const DEFAULT_DELIVERY_CLAIM_LEASE_MS = 60_000;

type DeliveryCursor = ListCursor;

export function encodeDeliveryCursor(delivery: Pick<WebhookDelivery, 'createdAt' | 'id'>): string {
  return encodeListCursor(delivery);
}

/** Null when the cursor is not one of ours (the list-cursor codec of @genqueue/core, for `whd_` ids). */
export function decodeDeliveryCursor(cursor: string): DeliveryCursor | null {
  return decodeListCursor(cursor, 'whd');
}

/**
 * The delivery id of a job URL's delivery for one event: `whd_` + the event's ULID. Deterministic
 * because Postgres does not treat two NULL endpoint ids as equal in @@unique([eventId, endpointId]);
 * the primary key keeps that row unique instead.
 */
export function jobUrlDeliveryId(eventId: string): string {
  return eventId.startsWith('evt_') ? `whd_${eventId.slice(4)}` : `whd_${eventId}`;
}

/** The id of each new delivery of an event: deterministic for the job's URL (above), new for an endpoint. */
export function deliveryIdsFor(eventId: string, targets: readonly Pick<DeliveryTarget, 'endpointId'>[]): string[] {
  return targets.map((target) => (target.endpointId === null ? jobUrlDeliveryId(eventId) : newId('whd')));
}

/** The columns of a `webhook_deliveries` row `d`, named as the Prisma model names them. */
const DELIVERY_COLUMNS = Prisma.raw(
  [
    'd.id',
    'd.project_id AS "projectId"',
    'd.job_id AS "jobId"',
    'd.event_id AS "eventId"',
    'd.endpoint_id AS "endpointId"',
    'd.webhook_id AS "webhookId"',
    'd.event_type AS "eventType"',
    'd.url',
    'd.payload',
    'd.status',
    'd.attempt_count AS "attemptCount"',
    'd.next_attempt_at AS "nextAttemptAt"',
    'd.created_at AS "createdAt"',
    'd.updated_at AS "updatedAt"',
  ].join(', '),
);

type SendingColumns = {
  epId: string | null;
  epDisabledAt: Date | null;
  epDeletedAt: Date | null;
  signSecret: string | null;
  signPreviousSecret: string | null;
  signRotatedAt: Date | null;
};

type AttemptColumns = {
  attemptId: string;
  attemptAt: Date;
  attemptStatusCode: number | null;
  attemptDurationMs: number;
  attemptError: string | null;
  attemptResponseBody: string | null;
  endpointFailingSince: Date | null;
};

const withAttempts = { attempts: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } } satisfies Prisma.WebhookDeliveryInclude;

function deliveryWhere(filter: DeliveryListFilter, cursor: DeliveryCursor | null): Prisma.WebhookDeliveryWhereInput {
  const and: Prisma.WebhookDeliveryWhereInput[] = [];
  if (filter.projectId) and.push({ projectId: filter.projectId });
  if (filter.jobId) and.push({ jobId: filter.jobId });
  if (filter.endpointId) and.push({ endpointId: filter.endpointId });
  if (filter.status) and.push({ status: filter.status });
  if (cursor) {
    and.push({ OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] });
  }
  return and.length > 0 ? { AND: and } : {};
}

/** The delivery outbox of webhook events and the attempts made at each delivery. */
export class WebhookDeliveriesRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Inside the transaction that recorded the event, one pending delivery per target. Safe to
   * repeat for the same event: existing rows are kept. Answers every delivery row of the event
   * (enqueue the pending ones after the commit; a lost enqueue is made up by the sweeper through
   * `claimDue`).
   */
  async createForEvent(tx: Db, input: NewEventDeliveries): Promise<WebhookDeliveryRecord[]> {
    if (input.targets.length === 0) return [];
    const { now } = input;
    const common = {
      projectId: input.projectId,
      jobId: input.jobId,
      eventId: input.eventId,
      eventType: input.eventType,
      payload: asJson(input.payload),
      status: 'pending',
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    } as const;
    const ids = deliveryIdsFor(input.eventId, input.targets);
    const rows: Prisma.WebhookDeliveryCreateManyInput[] = input.targets.map((target, i) => ({
      ...common,
      id: ids[i]!,
      endpointId: target.endpointId,
      url: target.url,
      webhookId: target.webhookId,
    }));
    await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true });
    return tx.webhookDelivery.findMany({ where: { eventId: input.eventId }, orderBy: { id: 'asc' } });
  }

  /** Whether the job has a delivery of `eventType` written after `since` (rate-limited event types). */
  async hasDeliverySince(tx: Db, jobId: string, eventType: string, since: Date): Promise<boolean> {
    const recent = await tx.webhookDelivery.findFirst({ where: { jobId, eventType, createdAt: { gt: since } }, select: { id: true } });
    return recent !== null;
  }

  /**
   * For the sweeper: pending deliveries due at `now`, at most `limit`, oldest due first. Each is
   * leased (its nextAttemptAt moves `leaseMs` ahead) so the next sweep does not hand it out again
   * while its queue job waits; `recordAttempt` sets the real next time. Concurrent callers never
   * get the same row. The delivery processor must check `status === 'pending'`, not nextAttemptAt.
   */
  claimDue(now: Date, limit: number, options: { leaseMs?: number } = {}): Promise<{ id: string; attemptCount: number }[]> {
    const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? DEFAULT_DELIVERY_CLAIM_LEASE_MS));
    return this.db.$queryRaw<{ id: string; attemptCount: number }[]>`
      UPDATE webhook_deliveries AS d
         SET next_attempt_at = ${leaseUntil}, updated_at = ${now}
        FROM (SELECT id FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= ${now}
               ORDER BY next_attempt_at, id
               LIMIT ${limit}
               FOR UPDATE SKIP LOCKED) AS due
       WHERE d.id = due.id
   RETURNING d.id, d.attempt_count AS "attemptCount"`;
  }

  /**
   * A delivery with what it takes to sign it, in one round trip (the hot path of every attempt).
   * Null when not found.
   */
  async findForSending(deliveryId: string): Promise<DeliveryForSending | null> {
    const rows = await this.db.$queryRaw<Array<WebhookDelivery & SendingColumns>>`
      SELECT ${DELIVERY_COLUMNS},
             e.id AS "epId", e.disabled_at AS "epDisabledAt", e.deleted_at AS "epDeletedAt",
             COALESCE(e.secret, p.webhook_secret) AS "signSecret",
             CASE WHEN e.id IS NULL THEN p.webhook_secret_previous ELSE e.previous_secret END AS "signPreviousSecret",
             CASE WHEN e.id IS NULL THEN p.webhook_secret_rotated_at ELSE e.secret_rotated_at END AS "signRotatedAt"
        FROM webhook_deliveries d
        LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id
        LEFT JOIN projects p ON d.endpoint_id IS NULL AND p.id = d.project_id
       WHERE d.id = ${deliveryId}`;
    const row = rows[0];
    if (!row) return null;
    const { epId, epDisabledAt, epDeletedAt, signSecret, signPreviousSecret, signRotatedAt, ...delivery } = row;
    return {
      delivery,
      endpoint: epId ? { id: epId, disabledAt: epDisabledAt, deletedAt: epDeletedAt } : null,
      secrets: signSecret ? { secret: signSecret, previousSecret: signPreviousSecret, rotatedAt: signRotatedAt } : null,
    };
  }

  /**
   * Records one attempt atomically, in one statement (no interactive transaction on the hot path):
   * the attempt row, the delivery's count and state, and the endpoint's failure run. State:
   * `finalStatus` if given; else `pending` until `nextAttemptAt` when it is set, `failed` when it is
   * null (schedule exhausted). A delivery that is no longer pending (another attempt finished it)
   * keeps its status; the attempt is still recorded. Null when the delivery does not exist.
   */
  async recordAttempt(
    deliveryId: string,
    result: AttemptRecord,
    nextAttemptAt: Date | null,
    finalStatus?: Exclude<DeliveryStatus, 'pending'>,
  ): Promise<RecordedAttempt | null> {
    const at = result.at ?? new Date();
    const status: DeliveryStatus = finalStatus ?? (nextAttemptAt ? 'pending' : 'failed');
    const nextAt = status === 'pending' ? nextAttemptAt : null;
    const succeeded = status === 'succeeded';
    const durationMs = Math.max(0, Math.round(result.durationMs));
    // A success clears the endpoint's failure run (writing the row only when there is one, so busy
    // endpoints are not locked by every delivery); a failure starts one unless it is going on.
    const rows = await this.db.$queryRaw<Array<WebhookDelivery & AttemptColumns>>`
      WITH d AS (
        UPDATE webhook_deliveries
           SET attempt_count = attempt_count + 1,
               status = CASE WHEN status = 'pending' THEN ${status}::text ELSE status END,
               next_attempt_at = CASE WHEN status = 'pending' THEN ${nextAt}::timestamptz ELSE next_attempt_at END,
               updated_at = ${at}
         WHERE id = ${deliveryId}
     RETURNING *
      ), a AS (
        INSERT INTO webhook_attempts (id, delivery_id, at, status_code, duration_ms, error, response_body)
        SELECT ${newId('wha')}, d.id, ${at}::timestamptz, ${result.statusCode}::int, ${durationMs}::int, ${result.error}::text, ${result.responseBody}::text FROM d
     RETURNING *
      ), e AS (
        UPDATE webhook_endpoints
           SET failing_since = CASE WHEN ${succeeded}::boolean THEN NULL ELSE COALESCE(failing_since, ${at}) END
         WHERE id = (SELECT endpoint_id FROM d) AND (NOT ${succeeded}::boolean OR failing_since IS NOT NULL)
     RETURNING failing_since
      )
      SELECT ${DELIVERY_COLUMNS},
             a.id AS "attemptId", a.at AS "attemptAt", a.status_code AS "attemptStatusCode",
             a.duration_ms AS "attemptDurationMs", a.error AS "attemptError", a.response_body AS "attemptResponseBody",
             (SELECT failing_since FROM e) AS "endpointFailingSince"
        FROM d JOIN a ON a.delivery_id = d.id`;
    const row = rows[0];
    if (!row) return null;
    const { attemptId, attemptAt, attemptStatusCode, attemptDurationMs, attemptError, attemptResponseBody, endpointFailingSince, ...delivery } = row;
    return {
      delivery,
      attempt: {
        id: attemptId,
        deliveryId,
        at: attemptAt,
        statusCode: attemptStatusCode,
        durationMs: attemptDurationMs,
        error: attemptError,
        responseBody: attemptResponseBody,
      },
      endpointFailingSince: succeeded || !delivery.endpointId ? null : endpointFailingSince,
    };
  }

  /** Newest first, keyset paginated, each with its attempts (oldest first). */
  async listDeliveries(filter: DeliveryListFilter, limit: number, cursor: string | null): Promise<Page<DeliveryWithAttempts>> {
    const decoded = cursor ? decodeDeliveryCursor(cursor) : null;
    const rows = await this.db.webhookDelivery.findMany({
      where: deliveryWhere(filter, decoded),
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: withAttempts,
    });
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > limit && last ? encodeDeliveryCursor(last) : null };
  }

  /** A delivery of the project with its attempts; null for an unknown id or another project's. */
  findForProject(projectId: string, deliveryId: string): Promise<DeliveryWithAttempts | null> {
    return this.db.webhookDelivery.findFirst({ where: { id: deliveryId, projectId }, include: withAttempts });
  }

  /**
   * Redeliver: pending again and due `now`, with the same webhook-id and a fresh retry schedule
   * (attemptCount counts the attempts since the last (re)start; the attempt rows keep them all).
   * Null for an unknown id or another project's.
   */
  async resetForRedelivery(projectId: string, deliveryId: string, now = new Date()): Promise<WebhookDeliveryRecord | null> {
    const [delivery] = await this.db.webhookDelivery.updateManyAndReturn({
      where: { id: deliveryId, projectId },
      data: { status: 'pending', nextAttemptAt: now, attemptCount: 0, updatedAt: now },
    });
    return delivery ?? null;
  }
}
