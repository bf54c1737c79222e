import type { Request } from 'express';
import { AppError } from '@genqueue/core';
import type { ProjectsRepository } from '@genqueue/db';
import { requireProjectId } from '../middleware/auth';

type Projects = Pick<ProjectsRepository, 'findById'>;

/** A project the admin key names (it may name any) must exist: `404 Project … not found` otherwise. */
export async function assertProjectExists(projects: Projects, projectId: string): Promise<void> {
  if (!(await projects.findById(projectId))) throw new AppError('not_found', `Project ${projectId} not found`);
}

/**
 * The project a request acts on: its key's own, or for the admin key the existing project it names
 * with `?project_id=` (400 when it names none, 404 when there is no such project).
 */
export async function targetProjectOf(req: Request, projects: Projects): Promise<string> {
  const projectId = requireProjectId(req);
  if (req.principal?.kind === 'admin') await assertProjectExists(projects, projectId);
  return projectId;
}
