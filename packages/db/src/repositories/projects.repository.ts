import { newId } from '@genqueue/core';
import type { PrismaClient, Project } from '../generated/prisma/client';
import { asJson } from './types';

export type ProjectLimits = { requests_per_minute?: number; max_running_jobs?: number };

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
