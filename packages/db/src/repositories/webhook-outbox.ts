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

/** The rows an event's outbox write inserts: its deliveries, their body, and the secret the project gets if it has none. */
export type OutboxPlan = {
  rows: DeliveryTarget[];
  payload: unknown;
  /** set when a delivery goes to the job's URL: signed with the project's secret, which it gets now if it has none */
  projectSecret: string | null;
};

/** `plan` answers this for a rate-limited event type: whether it goes out depends on earlier rows (`write` reads them). */
export const NEEDS_RATE_CHECK = Symbol('needs-rate-check');

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
   * The outbox rows of a change, from the project's active endpoints read with the change itself (no
   * query of its own): null when the event goes to no one; NEEDS_RATE_CHECK for a rate-limited type.
   * The caller inserts the rows in the change's transaction.
   */
  plan(job: OutboxJob, event: OutboxEvent, active: readonly EndpointTarget[]): OutboxPlan | null | typeof NEEDS_RATE_CHECK {
    if (!this.fanOut.isWebhookEvent(event.type)) return null;
    const targets = this.fanOut.targetsOf(event.type, job, active);
    if (targets.jobUrl === null && targets.endpoints.length === 0) return null;
    if (this.fanOut.minIntervalMs(event.type) !== null) return NEEDS_RATE_CHECK;
    return this.planTargets(event, targets);
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
    if (targets.jobUrl === null && targets.endpoints.length === 0) return [];
    const plan = this.planTargets(event, targets);
    if (plan.projectSecret !== null) await this.secrets.setProjectSecretIfNone(job.projectId, plan.projectSecret, tx);
    return this.deliveries.createForEvent(tx, {
      projectId: job.projectId,
      jobId: job.id,
      eventId: event.id,
      eventType: event.type,
      payload: plan.payload,
      targets: plan.rows,
      now,
    });
  }

  private planTargets(event: OutboxEvent, targets: { jobUrl: string | null; endpoints: readonly EndpointTarget[] }): OutboxPlan {
    const rows: DeliveryTarget[] = targets.endpoints.map((e) => ({ endpointId: e.id, url: e.url, webhookId: this.fanOut.newWebhookId() }));
    if (targets.jobUrl !== null) rows.unshift({ endpointId: null, url: targets.jobUrl, webhookId: this.fanOut.newWebhookId() });
    return {
      rows,
      payload: this.fanOut.payloadOf(event),
      // the job URL's deliveries are signed with the project's secret: it gets one with its first
      projectSecret: targets.jobUrl !== null ? this.fanOut.newProjectSecret() : null,
    };
  }
}
