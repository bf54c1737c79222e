import { newId } from '@genqueue/core';
import type { PrismaClient, WebhookEndpoint } from '../generated/prisma/client';
import type { Db } from './types';

/** A webhook endpoint row as the repositories answer it. */
export type WebhookEndpointRecord = WebhookEndpoint;

export type NewWebhookEndpoint = {
  projectId: string;
  url: string;
  description: string | null;
  /** empty = every webhook event type */
  eventTypes: string[];
  /** whsec_…, made by the caller (generateWebhookSecret) */
  secret: string;
};

/** What the endpoint fan-out needs of an endpoint. */
export type EndpointTarget = Pick<WebhookEndpoint, 'id' | 'url' | 'eventTypes'>;

/**
 * A project's webhook endpoints: their subscriptions, secrets and failure runs. Methods that take a
 * `db` argument can run inside a caller's transaction.
 */
export class WebhookEndpointsRepository {
  constructor(private readonly db: PrismaClient) {}

  createEndpoint(input: NewWebhookEndpoint, now = new Date()): Promise<WebhookEndpointRecord> {
    return this.db.webhookEndpoint.create({
      data: {
        id: newId('wep'),
        projectId: input.projectId,
        url: input.url,
        description: input.description,
        eventTypes: input.eventTypes,
        secret: input.secret,
        createdAt: now,
      },
    });
  }

  /** A project's endpoint unless deleted (disabled ones included). */
  findEndpointForProject(projectId: string, id: string): Promise<WebhookEndpointRecord | null> {
    return this.db.webhookEndpoint.findFirst({ where: { id, projectId, deletedAt: null } });
  }

  /** Every endpoint of the project not deleted, disabled ones included, oldest first. */
  listEndpoints(projectId: string): Promise<WebhookEndpointRecord[]> {
    return this.db.webhookEndpoint.findMany({
      where: { projectId, deletedAt: null },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** The endpoints that receive deliveries: neither deleted nor disabled. */
  listActiveEndpoints(projectId: string, db: Db = this.db): Promise<WebhookEndpointRecord[]> {
    return db.webhookEndpoint.findMany({
      where: { projectId, deletedAt: null, disabledAt: null },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Soft delete; false when there is no such endpoint in the project (or it is already deleted). */
  async deleteEndpoint(projectId: string, id: string, now = new Date()): Promise<boolean> {
    const { count } = await this.db.webhookEndpoint.updateMany({ where: { id, projectId, deletedAt: null }, data: { deletedAt: now } });
    return count > 0;
  }

  /** Stops deliveries to the endpoint (410, or failing for 5 days); false when it was already disabled. */
  async disableEndpoint(id: string, reason: string, now = new Date(), db: Db = this.db): Promise<boolean> {
    const { count } = await db.webhookEndpoint.updateMany({
      where: { id, disabledAt: null },
      data: { disabledAt: now, disabledReason: reason },
    });
    return count > 0;
  }

  /** A new secret; the old one is kept as `previousSecret` (signed with for 24 h). Null when not found. */
  async rotateEndpointSecret(projectId: string, id: string, newSecret: string, now = new Date()): Promise<WebhookEndpointRecord | null> {
    const updated = await this.db.$executeRaw`
      UPDATE webhook_endpoints
         SET previous_secret = secret, secret = ${newSecret}, secret_rotated_at = ${now}
       WHERE id = ${id} AND project_id = ${projectId} AND deleted_at IS NULL`;
    return updated > 0 ? this.db.webhookEndpoint.findUnique({ where: { id } }) : null;
  }

  /** A delivered attempt ends the endpoint's failure run. */
  async recordEndpointSuccess(id: string, db: Db = this.db): Promise<void> {
    await db.webhookEndpoint.updateMany({ where: { id, failingSince: { not: null } }, data: { failingSince: null } });
  }

  /** A failed attempt starts a failure run unless one is going on; answers when the run started. */
  async recordEndpointFailure(id: string, at: Date, db: Db = this.db): Promise<Date | null> {
    await db.webhookEndpoint.updateMany({ where: { id, failingSince: null }, data: { failingSince: at } });
    const endpoint = await db.webhookEndpoint.findUnique({ where: { id }, select: { failingSince: true } });
    return endpoint?.failingSince ?? null;
  }
}
