import { newId } from '@genqueue/core';
import type { PrismaClient, Project } from '../generated/prisma/client';
import { asJson } from './types';

export type ProjectLimits = { requests_per_minute?: number; max_running_jobs?: number };

/** `limits.max_running_jobs` of a stored `limits` value; null when the project has none (no cap). */
export function maxRunningJobsOf(limits: unknown): number | null {
  if (typeof limits !== 'object' || limits === null) return null;
  const max = (limits as ProjectLimits).max_running_jobs;
  return typeof max === 'number' && Number.isFinite(max) ? Math.floor(max) : null;
}

export class ProjectsRepository {
  constructor(private readonly db: PrismaClient) {}

  create(name: string, limits: ProjectLimits = {}): Promise<Project> {
    return this.db.project.create({ data: { id: newId('prj'), name, limits: asJson(limits) } });
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
