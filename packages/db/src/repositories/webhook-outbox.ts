import type { Job, JobEvent, PrismaClient } from '../generated/prisma/client';
import type { Db } from './types';
import { WebhookDeliveriesRepository, type DeliveryTarget, type WebhookDeliveryRecord } from './webhook-deliveries.repository';
import { WebhookEndpointsRepository, type EndpointTarget } from './webhook-endpoints.repository';
import { WebhookSecretsRepository } from './webhook-secrets.repository';

/** What the fan-out reads of a job. */
export type FanOutJob = Pick<Job, 'webhookUrl' | 'webhookEvents'>;

/**
 * The webhook fan-out policy the outbox follows: which targets get a job event, the body and ids
 * they get, how often. It is no business of this package: each composition root passes
 * @genqueue/webhooks' `webhookFanOut`.
 */
export interface WebhookFanOut {
  /** Whether an event of this type is ever a webhook. */
  isWebhookEvent(eventType: string): boolean;
  /** The job's URL when it gets `eventType` (else null), and the endpoints among these that get it. */
  targetsOf<E extends { eventTypes: readonly string[] }>(eventType: string, job: FanOutJob, endpoints: readonly E[]): { jobUrl: string | null; endpoints: E[] };
  /** The body of every delivery of the event. */
  payloadOf(event: Pick<JobEvent, 'type' | 'createdAt' | 'data'>): unknown;
  /** A new delivery's `webhook-id`. */
  newWebhookId(): string;
  /** The secret a project gets when its first job URL delivery is written. */
  newProjectSecret(): string;
  /** An event type written at most once per job in this interval; null: every time. */
  minIntervalMs(eventType: string): number | null;
}

type OutboxJob = Pick<Job, 'id' | 'projectId' | 'webhookUrl' | 'webhookEvents'>;
type OutboxEvent = Pick<JobEvent, 'id' | 'type' | 'data' | 'createdAt'>;

/**
 * The outbox write of a job change: inside the transaction that recorded the event, one pending
 * delivery per target the fan-out policy picks. The rows commit or roll back with the event, so a
 * committed change has its deliveries and a lost race has none.
 */
export class WebhookOutbox {
  private readonly endpoints: WebhookEndpointsRepository;
  private readonly secrets: WebhookSecretsRepository;
  private readonly deliveries: WebhookDeliveriesRepository;

  constructor(
    db: PrismaClient,
    private readonly fanOut: WebhookFanOut,
  ) {
    this.endpoints = new WebhookEndpointsRepository(db);
    this.secrets = new WebhookSecretsRepository(db);
    this.deliveries = new WebhookDeliveriesRepository(db);
  }

  /**
   * Whether a change needs the outbox at all, from the event types of the project's active
   * endpoints (read with the change itself): no query of its own.
   */
  isWanted(eventType: string, job: FanOutJob, endpointEventTypes: readonly (readonly string[])[]): boolean {
    if (!this.fanOut.isWebhookEvent(eventType)) return false;
    const targets = this.fanOut.targetsOf(eventType, job, endpointEventTypes.map((eventTypes) => ({ eventTypes })));
    return targets.jobUrl !== null || targets.endpoints.length > 0;
  }

  /**
   * The outbox step of a change, in `tx`. Costs nothing for an event that is no webhook and one
   * indexed query of the project's active endpoints otherwise; a rate-limited type (job.progress)
   * is skipped while a recent delivery of it exists. Answers the pending deliveries' ids, to be
   * queued after the commit.
   */
  async write(tx: Db, job: OutboxJob, event: OutboxEvent): Promise<string[]> {
    if (!this.fanOut.isWebhookEvent(event.type)) return [];
    const active = await this.endpoints.listActiveEndpoints(job.projectId, tx);
    const targets = this.fanOut.targetsOf(event.type, job, active);
    if (targets.jobUrl === null && targets.endpoints.length === 0) return [];
    const intervalMs = this.fanOut.minIntervalMs(event.type);
    if (intervalMs !== null && (await this.deliveries.hasDeliverySince(tx, job.id, event.type, new Date(Date.now() - intervalMs)))) return [];
    const rows = await this.writeTargets(tx, job, event, targets, new Date());
    return rows.filter((row) => row.status === 'pending').map((row) => row.id);
  }

  /**
   * The deliveries of the event to these endpoints (and to the job's URL if it wants the event),
   * no rate limit: fans an event out by hand. Safe to repeat; answers every row of the event.
   */
  writeTo(tx: Db, job: OutboxJob, event: OutboxEvent, endpoints: readonly EndpointTarget[], now = new Date()): Promise<WebhookDeliveryRecord[]> {
    return this.writeTargets(tx, job, event, this.fanOut.targetsOf(event.type, job, endpoints), now);
  }

  private async writeTargets(
    tx: Db,
    job: OutboxJob,
    event: OutboxEvent,
    targets: { jobUrl: string | null; endpoints: readonly EndpointTarget[] },
    now: Date,
  ): Promise<WebhookDeliveryRecord[]> {
    const rows: DeliveryTarget[] = targets.endpoints.map((e) => ({ endpointId: e.id, url: e.url, webhookId: this.fanOut.newWebhookId() }));
    if (targets.jobUrl !== null) {
      rows.unshift({ endpointId: null, url: targets.jobUrl, webhookId: this.fanOut.newWebhookId() });
      // the job URL's deliveries are signed with the project's secret: it gets one with its first
      await this.secrets.setProjectSecretIfNone(job.projectId, this.fanOut.newProjectSecret(), tx);
    }
    if (rows.length === 0) return [];
    return this.deliveries.createForEvent(tx, {
      projectId: job.projectId,
      jobId: job.id,
      eventId: event.id,
      eventType: event.type,
      payload: this.fanOut.payloadOf(event),
      targets: rows,
      now,
    });
  }
}
