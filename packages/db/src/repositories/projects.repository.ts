import { newId } from '@genqueue/core';
import type { PrismaClient, Project } from '../generated/prisma/client';
import { asJson } from './types';

export type ProjectLimits = { requests_per_minute?: number; max_running_jobs?: number; retention_days?: number; weight?: number };

/** A change of a project: a new name, and limits to set (a number) or remove (null); others stay. */
export type ProjectChange = { name?: string; limits?: { [K in keyof ProjectLimits]?: number | null } };

/** `limits.max_running_jobs` of a stored `limits` value; null when the project has none (no cap). */
export function maxRunningJobsOf(limits: unknown): number | null {
  if (typeof limits !== 'object' || limits === null) return null;
  const max = (limits as ProjectLimits).max_running_jobs;
  return typeof max === 'number' && Number.isFinite(max) ? Math.floor(max) : null;
}

/** `limits.weight` of a stored `limits` value: the project's share of a lane it contends for; 1 when unset. */
export function weightOf(limits: unknown): number {
  if (typeof limits !== 'object' || limits === null) return 1;
  const weight = (limits as ProjectLimits).weight;
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 1;
}

/** How long a project's weight is taken from memory: a changed weight counts within this. */
const WEIGHT_CACHE_MS = 5_000;

/**
 * Project weights for the enqueue path, read at most once per project every few seconds (a
 * submission costs no extra query). A project that does not exist weighs 1.
 */
export class ProjectWeights {
  private readonly cache = new Map<string, { weight: number; until: number }>();

  constructor(private readonly db: PrismaClient) {}

  async of(projectId: string): Promise<number> {
    const now = Date.now();
    const hit = this.cache.get(projectId);
    if (hit && hit.until > now) return hit.weight;
    const row = await this.db.project.findUnique({ where: { id: projectId }, select: { limits: true } });
    const weight = weightOf(row?.limits);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { weight, until: now + WEIGHT_CACHE_MS });
    return weight;
  }
}

export class ProjectsRepository {
  constructor(private readonly db: PrismaClient) {}

  create(name: string, limits: ProjectLimits = {}): Promise<Project> {
    return this.db.project.create({ data: { id: newId('prj'), name, limits: asJson(limits) } });
  }

  /** Applies `change` under a row lock (two changes of one project do not lose each other's limits); null when no such project. */
  update(id: string, change: ProjectChange): Promise<Project | null> {
    return this.db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Array<{ limits: unknown }>>`SELECT limits FROM projects WHERE id = ${id} FOR UPDATE`;
      if (!row) return null;
      const limits: Record<string, unknown> = { ...(typeof row.limits === 'object' && row.limits !== null ? row.limits : {}) };
      for (const [key, value] of Object.entries(change.limits ?? {})) {
        if (value === null) delete limits[key];
        else if (value !== undefined) limits[key] = value;
      }
      return tx.project.update({ where: { id }, data: { ...(change.name === undefined ? {} : { name: change.name }), limits: asJson(limits) } });
    });
  }

  findById(id: string): Promise<Project | null> {
    return this.db.project.findUnique({ where: { id } });
  }

  findByName(name: string): Promise<Project | null> {
    return this.db.project.findUnique({ where: { name } });
  }

  list(limit = 100, afterId?: string): Promise<Project[]> {
    return this.db.project.findMany({
      orderBy: { id: 'asc' },
      take: limit,
      ...(afterId ? { where: { id: { gt: afterId } } } : {}),
    });
  }
}
