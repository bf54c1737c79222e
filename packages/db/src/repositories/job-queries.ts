import type { Job, JobEvent, Prisma, PrismaClient } from '../generated/prisma/client';

export type JobListFilter = {
  projectId?: string;
  type?: string;
  status?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  metadata?: Record<string, string>;
  /** admin search: job id, upstream task id, or words of the prompt */
  q?: string;
};

export type Page<T> = { data: T[]; nextCursor: string | null };

type Cursor = { createdAt: Date; id: string };

export function encodeCursor(job: Pick<Job, 'createdAt' | 'id'>): string {
  return Buffer.from(`${job.createdAt.toISOString()}|${job.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!iso || !id || !/^job_[0-9A-Z]{26}$/.test(id)) return null;
  const createdAt = new Date(iso);
  return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id };
}

function whereOf(filter: JobListFilter, cursor: Cursor | null): Prisma.JobWhereInput {
  const and: Prisma.JobWhereInput[] = [];
  if (filter.projectId) and.push({ projectId: filter.projectId });
  if (filter.type) and.push({ type: filter.type });
  if (filter.status) and.push({ status: filter.status });
  if (filter.createdAfter) and.push({ createdAt: { gt: filter.createdAfter } });
  if (filter.createdBefore) and.push({ createdAt: { lt: filter.createdBefore } });
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    and.push({ metadata: { path: [key], equals: value } });
  }
  if (filter.q) {
    const q = filter.q.trim();
    and.push({
      OR: [
        { id: q },
        { upstreamTaskId: q },
        { input: { path: ['prompt'], string_contains: q } },
      ],
    });
  }
  if (cursor) {
    and.push({
      OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
    });
  }
  return and.length > 0 ? { AND: and } : {};
}

/** Reads for history screens: keyset pagination, newest first. */
export class JobQueries {
  constructor(private readonly db: PrismaClient) {}

  async list(filter: JobListFilter, limit: number, cursor: string | null): Promise<Page<Job>> {
    const decoded = cursor ? decodeCursor(cursor) : null;
    const rows = await this.db.job.findMany({
      where: whereOf(filter, decoded),
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    });
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** The project's events with an id above `afterId`, in id order (the job_events (project_id, id) index). */
  projectEventsAfter(projectId: string, afterId: string, limit: number): Promise<JobEvent[]> {
    return this.db.jobEvent.findMany({ where: { projectId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take: limit });
  }

  events(jobId: string, afterSeq = 0, limit = 1000): Promise<JobEvent[]> {
    return this.db.jobEvent.findMany({
      where: { jobId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
  }

  async countsByStatusAndType(since?: Date): Promise<{ status: string; type: string; count: number }[]> {
    const groups = await this.db.job.groupBy({
      by: ['status', 'type'],
      _count: { _all: true },
      ...(since ? { where: { createdAt: { gte: since } } } : {}),
    });
    return groups.map((g) => ({ status: g.status, type: g.type, count: g._count._all }));
  }

  async finishedSince(since: Date): Promise<{ status: string; count: number }[]> {
    const groups = await this.db.job.groupBy({
      by: ['status'],
      _count: { _all: true },
      where: { finishedAt: { gte: since } },
    });
    return groups.map((g) => ({ status: g.status, count: g._count._all }));
  }
}
