import type { Job, JobAttempt, JobEvent, Prisma, PrismaClient } from '../generated/prisma/client';
import type { Page } from './job-queries';
import { decodeDeliveryCursor, encodeDeliveryCursor, type DeliveryWithAttempts } from './webhook-deliveries.repository';
import type { WebhookEndpointRecord } from './webhook-endpoints.repository';

export type AdminDeliveryFilter = {
  projectId?: string;
  jobId?: string;
  endpointId?: string;
  status?: string;
  eventType?: string;
};

export type JobWithProjectName = Job & { projectName: string };

const attemptsOldestFirst = { attempts: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } } satisfies Prisma.WebhookDeliveryInclude;

/** Reads of the admin dashboard that span every project (the per-project reads live beside their repositories). */
export class AdminQueries {
  constructor(private readonly db: PrismaClient) {}

  /** Events of every project with an id above `afterId`, in id order (the primary key serves it). */
  eventsAfter(afterId: string, limit: number): Promise<JobEvent[]> {
    return this.db.jobEvent.findMany({ where: { id: { gt: afterId } }, orderBy: { id: 'asc' }, take: limit });
  }

  async jobWithProjectName(id: string): Promise<JobWithProjectName | null> {
    const job = await this.db.job.findUnique({ where: { id }, include: { project: { select: { name: true } } } });
    if (!job) return null;
    const { project, ...rest } = job;
    return { ...rest, projectName: project.name };
  }

  /** Every failed run of the job, oldest first (written by the worker). */
  jobAttempts(jobId: string): Promise<JobAttempt[]> {
    return this.db.jobAttempt.findMany({ where: { jobId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Jobs made from this one (Midjourney follow-ups), oldest first. */
  jobChildren(jobId: string, limit = 1000): Promise<Job[]> {
    return this.db.job.findMany({ where: { parentId: jobId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit });
  }

  /** Endpoints that are not deleted, of one project or all, oldest first. */
  listEndpoints(projectId?: string): Promise<WebhookEndpointRecord[]> {
    return this.db.webhookEndpoint.findMany({
      where: { deletedAt: null, ...(projectId ? { projectId } : {}) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** Re-enables an endpoint and forgets its failure run; null when no such endpoint (or deleted). */
  async enableEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    const { count } = await this.db.webhookEndpoint.updateMany({
      where: { id, deletedAt: null },
      data: { disabledAt: null, disabledReason: null, failingSince: null },
    });
    return count > 0 ? this.db.webhookEndpoint.findUnique({ where: { id } }) : null;
  }

  /** Deliveries of every project (or one), newest first, keyset paginated, each with its attempts. */
  async listDeliveries(filter: AdminDeliveryFilter, limit: number, cursor: string | null): Promise<Page<DeliveryWithAttempts>> {
    const decoded = cursor ? decodeDeliveryCursor(cursor) : null;
    const and: Prisma.WebhookDeliveryWhereInput[] = [];
    if (filter.projectId) and.push({ projectId: filter.projectId });
    if (filter.jobId) and.push({ jobId: filter.jobId });
    if (filter.endpointId) and.push({ endpointId: filter.endpointId });
    if (filter.status) and.push({ status: filter.status });
    if (filter.eventType) and.push({ eventType: filter.eventType });
    if (decoded) {
      and.push({ OR: [{ createdAt: { lt: decoded.createdAt } }, { createdAt: decoded.createdAt, id: { lt: decoded.id } }] });
    }
    const rows = await this.db.webhookDelivery.findMany({
      where: and.length > 0 ? { AND: and } : {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: attemptsOldestFirst,
    });
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > limit && last ? encodeDeliveryCursor(last) : null };
  }

  /** The project a delivery belongs to; null when unknown. */
  async deliveryProjectId(id: string): Promise<string | null> {
    const row = await this.db.webhookDelivery.findUnique({ where: { id }, select: { projectId: true } });
    return row?.projectId ?? null;
  }
}
